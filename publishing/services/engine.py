"""The publish state machine shared by the three platforms.

One run of `publish_target` (one `publish` message) takes a lease on the target, advances it as far
as it can, calling the platform's steps in order (prepare -> poll -> commit -> published; see
`publishing.platforms` for the protocol), writes every handle and step on the row as soon as it
exists, then releases the lease. Polling re-enqueues the message with a delay: no worker sleeps.

The commit (the one public-making call) is guarded by `commit_started_at`, saved before the call and
cleared only when the platform answered with a definite refusal. A run that finds it set without a
platform post id does not know whether the post went out: it asks the platform (`reconcile`) and
commits again only when the platform says it did not; when the platform cannot tell, the target
ends `unconfirmed`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from social.models import AccountStatus
from unipulse import hooks
from unipulse.jobs import QUEUE_POLICY
from unipulse.platform_errors import (
    PLATFORM_NAMES,
    BlockedError,
    PlatformError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)

from ..events import target_changed
from ..models import CommentStatus, PostTarget, Step, TargetStatus
from ..platforms import (
    NOT_SENT,
    POLL_LATER,
    READY,
    STOPPED,
    TOO_EARLY,
    Outcome,
    Published,
    PublishPlatform,
    Run,
    Sent,
    Unconfirmable,
    get_platform,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

# A run never outlives the actor's time limit; a killed worker's lease runs out a margin after it.
LEASE = (timedelta(milliseconds=QUEUE_POLICY["publish"]["time_limit"])
         + timedelta(seconds=settings.PUBLISH_LEASE_MARGIN_SECONDS))
MAX_TEMPORARY_FAILURES = QUEUE_POLICY["publish"]["max_retries"]


def send_publish(target_id: int, delay_seconds: float = 0) -> None:
    """Enqueue one `publish` message for the target (after `delay_seconds`)."""
    from .. import actors

    if delay_seconds > 0:
        actors.publish.send_with_options(args=(target_id,), delay=int(delay_seconds * 1000))
    else:
        actors.publish.send(target_id)


BROKER_DOWN_MESSAGE = "The job queue could not be reached; publish_due sends this again within a minute."


def send_queued(target_ids: list[int]) -> list[int]:
    """Send the first message of targets just moved to `queued`; returns the ids the broker refused.

    Called after the commit that queued them. A target whose message never left would sit in `queued`
    for ever (nothing else sends it), so a refused one goes back to `scheduled`, due now, for the next
    publish_due run, with the reason on the row. Nothing reached a platform, so nothing can be doubled.
    """
    from unipulse.broker import BATCH_SIZE, EnqueueError, enqueue_many

    from .. import actors

    refused: list[int] = []
    for start in range(0, len(target_ids), BATCH_SIZE):  # pipelined batches (publish_due's thousands)
        batch = target_ids[start:start + BATCH_SIZE]
        try:
            enqueue_many([actors.publish.message(pk) for pk in batch])
        except EnqueueError as error:  # the broker is down: the rest would fail the same way, one timeout each
            refused = list(target_ids[start + error.sent:])
            logger.warning("%d publish target(s) queued but not sent (%s); back to scheduled", len(refused), error)
            break
    if refused:
        now = timezone.now()
        PostTarget.objects.filter(pk__in=refused, status=TargetStatus.QUEUED).update(
            status=TargetStatus.SCHEDULED, scheduled_at=Coalesce(F("scheduled_at"), Value(now)),
            last_error_message=BROKER_DOWN_MESSAGE, updated_at=now)
        # A resumed TikTok target (retry_targets) goes back to where the user can retry it again.
        PostTarget.objects.filter(pk__in=refused, status=TargetStatus.PUBLISHING, lease_until__isnull=True).update(
            status=TargetStatus.UNCONFIRMED, last_error_code="unconfirmed",
            last_error_message="The job queue could not be reached; retry again in a moment.", updated_at=now)
    return refused


def publish_target(target_id: int) -> None:
    """Advance one target as far as possible. Safe to call again at any time: it never posts twice."""
    target = _claim(target_id)
    if target is None:
        return
    try:
        _run(target, get_platform(target.account.platform))
    finally:
        PostTarget.objects.filter(pk=target.pk).update(lease_until=None)


def _claim(target_id: int) -> PostTarget | None:
    """Take the target's lease, or say when to come back (returns None: nothing to do now)."""
    now = timezone.now()
    come_back_in = None
    with transaction.atomic():
        target = (PostTarget.objects.select_for_update(of=("self",)).select_related("account", "post")
                  .filter(pk=target_id).first())
        if target is None:
            return None
        follow_up_due = (target.status == TargetStatus.PUBLISHED
                         and get_platform(target.account.platform).follow_up_due(target))
        if target.status not in (TargetStatus.QUEUED, TargetStatus.PUBLISHING) and not follow_up_due:
            return None  # finished, cancelled, or not due yet: a stray or duplicate message
        if target.lease_until and target.lease_until > now:
            # Another worker holds it, or was killed holding it: come back when the lease runs out.
            come_back_in = (target.lease_until - now).total_seconds()
        elif target.account.is_blocked():
            come_back_in = (target.account.blocked_until - now).total_seconds() + 1
        else:
            target.lease_until = now + LEASE
            if target.status == TargetStatus.QUEUED:
                target.status = TargetStatus.PUBLISHING
            target.save(update_fields=["lease_until", "status", "updated_at"])
    if come_back_in is not None:
        send_publish(target_id, come_back_in)  # after the lock is released
        return None
    return target


def _run(target: PostTarget, platform: PublishPlatform) -> None:
    name = PLATFORM_NAMES[target.account.platform]
    if target.account.status != AccountStatus.ACTIVE and target.status != TargetStatus.PUBLISHED:
        # Known to need a reconnect: do not spend a call learning it again.
        if has_committed(target):
            return mark_unconfirmed(target, f"Reconnect your {name} account to learn whether the post went out.")
        return mark_failed(target, f"Reconnect your {name} account, then retry this post.", "account_inactive")
    try:
        _advance(target, platform)
    except Unconfirmable as why:
        mark_unconfirmed(target, str(why))
    except ReauthRequiredError as error:
        # http.request already marked the account needs_reauth.
        if has_committed(target) and target.status != TargetStatus.PUBLISHED:
            # The post may be out (a TikTok poll after init, a reconcile read): failing it would let a
            # retry publish it again. The handles stay, so a TikTok retry after reconnecting resumes polling.
            mark_unconfirmed(target, f"Reconnect your {name} account, then retry: {name} already has the post, "
                                     "and the retry only asks how it went." if can_resume(target) else
                             f"Reconnect your {name} account: {name} may already have the post, so it is not "
                             "sent again. Check the account before posting it again.")
        else:
            _fail_or_keep(target, f"Reconnect your {name} account, then retry this post.", error.error_code)
        raise
    except RateLimitedError as error:
        _wait(target, error, error.retry_after)
        raise  # run_platform_job re-sends the message after retry_after, without spending a retry
    except BlockedError as error:
        until = block_account(target, error.until or timezone.now() + timedelta(hours=1))
        _wait(target, error, (until - timezone.now()).total_seconds() + 1)
        send_publish(target.pk, (until - timezone.now()).total_seconds() + 1)
    except TransientError as error:
        target.attempts += 1
        _record_error(target, error.error_code, error.message)
        if target.attempts <= MAX_TEMPORARY_FAILURES:
            raise  # Dramatiq retries with backoff; the next run resumes from the saved step
        if target.status == TargetStatus.PUBLISHED:
            _set(target, first_comment_status=CommentStatus.FAILED)
        elif has_committed(target):
            mark_unconfirmed(target, f"{name} kept failing after we sent the post; check the account before retrying.")
        else:
            mark_failed(target, f"{name} kept failing: {error.message}", error.error_code)
    except PlatformError as error:  # permission missing, invalid request
        _fail_or_keep(target, error.message, error.error_code)
    except Exception:
        # A bug or a database error: Dramatiq retries; past its retries the target must not hang in `publishing`.
        target.attempts += 1
        _record_error(target, "internal", "Something went wrong on our side while publishing; it has been logged.")
        if target.attempts > MAX_TEMPORARY_FAILURES and target.status != TargetStatus.PUBLISHED:
            if has_committed(target):
                mark_unconfirmed(target, f"We could not confirm whether {name} received the post; check the account.")
            else:
                mark_failed(target, target.last_error_message, "internal")
        raise


# ---- the order of the steps ---------------------------------------------------------------------

def _advance(target: PostTarget, platform: PublishPlatform) -> None:
    if is_published(target):
        return platform.follow_up(target)
    run = Run(target, list(target.post.media.all()))
    outcome: Outcome = READY
    if target.commit_started_at and target.step != Step.COMMITTED:
        outcome = _reconcile(run, platform)  # never post again before the platform has been asked
    if outcome is READY and target.step == Step.COMMITTED:
        outcome = platform.poll(run)  # sent: the platform finishes on its own
    elif outcome is READY:
        outcome = _prepare_and_commit(run, platform)
    _settle(run, platform, outcome)


def is_published(target: PostTarget) -> bool:
    """Any sign the post is live counts: such a target only ever gets its follow-up, never a commit."""
    return target.status == TargetStatus.PUBLISHED or bool(target.platform_post_id) or target.step == Step.DONE


def _reconcile(run: Run, platform: PublishPlatform) -> Outcome:
    outcome = platform.reconcile(run)
    if outcome is NOT_SENT:  # the platform says it did not go out: committing again is safe
        save_handles(run.target, commit_started_at=None)
        return READY
    if isinstance(outcome, Sent):  # it did, and the platform is finishing it: ask how it goes now
        save_handles(run.target, **outcome.handles, step=Step.COMMITTED)
        return READY
    return outcome


def _prepare_and_commit(run: Run, platform: PublishPlatform) -> Outcome:
    for step in (platform.prepare, platform.poll):
        outcome = step(run)
        if outcome is not READY:
            return outcome
    outcome = commit(run.target, lambda: platform.commit(run))
    if outcome is TOO_EARLY:  # a refusal: nothing went out
        save_handles(run.target, commit_started_at=None)
        return POLL_LATER
    if isinstance(outcome, Published):
        # The commit's answer names the post; its link is a read after it, whose failure changes nothing.
        _publish(run.target, platform, outcome, read_permalink=True)
        return STOPPED
    return outcome


def _settle(run: Run, platform: PublishPlatform, outcome: Outcome) -> None:
    target = run.target
    if isinstance(outcome, Published):
        _publish(target, platform, outcome)
    elif isinstance(outcome, Sent):
        save_handles(target, **outcome.handles, step=Step.COMMITTED)
        wait_for_poll(target, committed=True)
    elif outcome is POLL_LATER:
        wait_for_poll(target, committed=has_committed(target))


def _publish(target: PostTarget, platform: PublishPlatform, outcome: Published, *, read_permalink: bool = False) -> None:
    mark_published(target, outcome.post_id, outcome.permalink)
    if read_permalink:
        permalink = best_effort("permalink", target, lambda: platform.permalink(target.account, outcome.post_id), "")
        if permalink:
            save_handles(target, permalink=permalink)
    if outcome.after_publish:
        platform.after_publish(target)


def has_committed(target: PostTarget) -> bool:
    """Whether a public-making call may have reached the platform.

    A TikTok FILE_UPLOAD publish_id alone does not count: TikTok posts nothing before the last chunk,
    whose PUT is guarded by commit_started_at like every commit.
    """
    return (bool(target.commit_started_at) or target.step in (Step.COMMITTED, Step.DONE)
            or bool(target.platform_post_id))


def can_resume(target: PostTarget) -> bool:
    """An `unconfirmed` target whose outcome the platform can still be asked about without posting:
    a TikTok publish whose init answered (its publish_id is saved), so a retry resumes polling."""
    return bool(target.publish_id) and target.step == Step.COMMITTED and not target.platform_post_id


def block_account(target: PostTarget, until: datetime) -> datetime:
    """Block the target's account until `until`, never shortening a longer block already recorded
    (SocialAccount.mark_blocked: one conditional UPDATE). Returns when the account's block really ends."""
    account = target.account
    if not account.mark_blocked(until):
        account.refresh_from_db(fields=["blocked_until"])
    return max(until, account.blocked_until or until)


def _wait(target: PostTarget, error: PlatformError, seconds: float) -> None:
    """Rate limited or blocked: not a failure. The target waits with the reason shown: `queued` while
    nothing can have gone out (so it may still be cancelled), else it stays `publishing`."""
    if target.status == TargetStatus.PUBLISHING and not has_committed(target):
        target.status = TargetStatus.QUEUED
    minutes = max(1, math.ceil(seconds / 60))  # 60 s is "1 min", not "2 min" beside "retrying in 60 s"
    _record_error(target, error.error_code, f"Waiting {minutes} min: {error.message}")


def _fail_or_keep(target: PostTarget, message: str, code: str) -> None:
    if target.status == TargetStatus.PUBLISHED:  # only the first comment failed: the post stays published
        _set(target, first_comment_status=CommentStatus.FAILED, last_error_code=code[:64],
             last_error_message=f"First comment: {message}"[:1000])
    else:
        mark_failed(target, message, code)


# ---- recording ----------------------------------------------------------------------------------

def _set(target: PostTarget, **fields) -> None:
    """Save the fields; a new published/failed/unconfirmed status writes its event in the same transaction."""
    before = target.status
    for key, value in fields.items():
        setattr(target, key, value)
    if "status" not in fields or fields["status"] == before:
        target.save(update_fields=[*fields, "updated_at"])
        return
    with transaction.atomic():
        target.save(update_fields=[*fields, "updated_at"])
        target_changed(target, before)


def _record_error(target: PostTarget, code: str, message: str) -> None:
    _set(target, status=target.status, attempts=target.attempts, last_error_code=code[:64],
         last_error_message=message[:1000])


def save_handles(target: PostTarget, **fields) -> None:
    """Write remote handles and the step on the row now, before the next platform call."""
    _set(target, **fields)


def mark_failed(target: PostTarget, message: str, code: str = "", *, platform_refused: bool = False) -> None:
    """End the target `failed`: nothing went out, so `retry_post` may publish it again from scratch.

    Once a commit may have reached the platform, only the platform's own answer that the publish did
    not happen (`platform_refused`: TikTok FAILED, a container not PUBLISHED) may fail the target; any
    other terminal error ends it `unconfirmed`, handles kept, so no retry can post it twice.
    """
    if has_committed(target) and not platform_refused:
        name = PLATFORM_NAMES[target.account.platform]
        return mark_unconfirmed(target, f"{message.rstrip('.')}. The post may already be on {name}, so it is not "
                                        "sent again: check the account before posting it again.")
    _set(target, status=TargetStatus.FAILED, last_error_code=code[:64], last_error_message=message[:1000])


def mark_unconfirmed(target: PostTarget, message: str) -> None:
    _set(target, status=TargetStatus.UNCONFIRMED, last_error_code="unconfirmed", last_error_message=message[:1000])


def mark_published(target: PostTarget, platform_post_id: str, permalink: str = "") -> None:
    """Status and platform id in one UPDATE: there is no moment where one is saved without the other.

    An empty id or permalink never overwrites one already stored (e.g. by a TikTok webhook meanwhile).
    """
    fields = {"status": TargetStatus.PUBLISHED, "step": Step.DONE, "published_at": timezone.now(), "polls": 0,
              "last_error_code": "", "last_error_message": "",
              "first_comment_status": CommentStatus.PENDING if target.first_comment else CommentStatus.NONE}
    if platform_post_id:
        fields["platform_post_id"] = platform_post_id[:128]
    if permalink:
        fields["permalink"] = permalink[:2048]
    _set(target, **fields)
    if platform_post_id:
        _tell_analytics(target.account_id, platform_post_id, fields["published_at"])


def fill_post_id(target: PostTarget, platform_post_id: str) -> bool:
    """Store the id of a post already published without one (TikTok names a public post after moderation).

    One conditional UPDATE: an id already stored (by a webhook meanwhile) is never overwritten, and
    analytics hears of the post once. Returns whether this call stored it.
    """
    platform_post_id = platform_post_id[:128]
    if not platform_post_id or not PostTarget.objects.filter(pk=target.pk, platform_post_id="").update(
            platform_post_id=platform_post_id, updated_at=timezone.now()):
        return False
    target.platform_post_id = platform_post_id
    _tell_analytics(target.account_id, platform_post_id, target.published_at)
    return True


def _tell_analytics(account_id: int, platform_post_id: str, published_at) -> None:
    """Tell whoever tracks published posts (analytics), after the publish is committed. Receivers are idempotent."""
    transaction.on_commit(lambda: hooks.target_published.send(
        sender=PostTarget, account_id=account_id, platform_post_id=platform_post_id, published_at=published_at))


def commit(target: PostTarget, call: Callable[[], T]) -> T:
    """Run the platform's commit step. `commit_started_at` is on the row before its call leaves.

    A definite refusal (rate limit, block, invalid, reauth) clears it: nothing went out. A timeout,
    5xx or a killed worker leaves it set, so the next run reconciles instead of posting again.
    """
    _set(target, commit_started_at=timezone.now())
    try:
        return call()
    except TransientError as error:
        if not isinstance(error, RateLimitedError):
            raise
        # Rate limited on the commit: park the account until the platform's time, never loop.
        block_account(target, timezone.now() + timedelta(seconds=error.retry_after))
        _set(target, commit_started_at=None)
        raise
    except PlatformError:
        _set(target, commit_started_at=None)
        raise


def wait_for_poll(target: PostTarget, *, committed: bool = False) -> None:
    """Come back later to read a status again (bounded by PUBLISH_MAX_POLLS)."""
    name = PLATFORM_NAMES[target.account.platform]
    if target.polls >= settings.PUBLISH_MAX_POLLS:
        if committed:
            raise Unconfirmable(f"{name} was still processing the post after {target.polls} checks; "
                                "it may still appear. Check the account before retrying.")
        mark_failed(target, f"{name} was still processing the media after {target.polls} checks.", "poll_timeout")
        return
    _set(target, polls=target.polls + 1)
    send_publish(target.pk, settings.PUBLISH_POLL_DELAY_SECONDS)


def best_effort(what: str, target: PostTarget, call: Callable[[], T], default: T) -> T:
    """A read after a confirmed publish: its failure never fails the target."""
    try:
        return call()
    except PlatformError as error:
        logger.warning("Target %s: could not read %s after publishing (%s)", target.pk, what, error.error_code)
        return default
