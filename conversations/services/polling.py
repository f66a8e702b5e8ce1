"""Incremental polling of comments and DMs: what webhooks missed, resuming from a stored time per account."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from social.models import AccountStatus, SocialAccount
from social.services import (
    get_call_budget,
    join_reasons,
    needs_webhook_subscription,
    split_reasons,
    subscribe_instagram_login_webhooks,
)
from unipulse.platform_errors import PlatformError, ReauthRequiredError, TransientError

from ..models import Conversation, InboxSyncState, Message
from ..platforms import NoInboxError, get_inbox
from . import inbox
from .inbox import QUIET_REASON

logger = logging.getLogger(__name__)

# Profile lookups a poll makes at most (one per new DM conversation, never per message).
PROFILE_LOOKUPS_PER_POLL = 10


def sync_account_inbox(account_id: int) -> int:
    """Fetch and upsert an account's comments and DMs newer than the stored cursor. Idempotent.

    An Instagram Login account not subscribed to its webhooks yet is subscribed first (the connect
    enqueues this job; every later poll tries again until it holds). Returns how many items only the
    poll found (no webhook had delivered them). Raises PlatformError.
    """
    account = SocialAccount.objects.select_related("parent").filter(pk=account_id, status=AccountStatus.ACTIVE).first()
    if account is None:
        return 0
    if needs_webhook_subscription(account):
        subscribe_instagram_login_webhooks(account)  # a temporary failure raises: the job is retried
    try:
        platform = get_inbox(account.platform)
    except NoInboxError:
        return 0
    state, _ = InboxSyncState.objects.get_or_create(account=account)
    result = platform.poll(account, state.comments_since, state.messages_since)
    missed = sum(inbox.upsert_item(account, item, Message.Origin.POLL)[1] for item in [*result.comments, *result.messages])
    now = timezone.now()
    InboxSyncState.objects.filter(pk=state.pk).update(
        comments_since=result.comments_since, messages_since=result.messages_since, last_polled_at=now,
        missed_by_webhooks=state.missed_by_webhooks + missed,
    )
    if missed and _webhooks_quiet(state, now):
        _flag_quiet_webhooks(account)
    fill_participant_profiles(account, platform)
    return missed


def fill_participant_profiles(account: SocialAccount, platform) -> int:
    """Look up the name and picture of DM participants not looked up yet; returns how many were looked up.

    One lookup per conversation (a webhook-delivered DM knows only the sender id; Graph's thread
    participants carry a name but no picture), at most PROFILE_LOOKUPS_PER_POLL a poll, and only while
    the hourly Meta budget stays above the reserve kept for publishing and replies. A refused lookup
    (no consent, a blocked person) counts as done; a temporary failure leaves it for the next poll.
    """
    pending = list(Conversation.objects.filter(
        account=account, kind=Conversation.Kind.DM, participant_looked_up_at__isnull=True,
    ).exclude(participant_id="").order_by("-last_message_at", "-id")[:PROFILE_LOOKUPS_PER_POLL])
    done = 0
    for conversation in pending:
        left = get_call_budget(account)
        if left is not None and left <= settings.ANALYTICS_BUDGET_RESERVE:
            break
        try:
            person = platform.read_participant(account, conversation.participant_id)
        except (TransientError, ReauthRequiredError) as error:
            logger.info("account %s: participant lookups stopped (%s)", account.pk, type(error).__name__)
            break
        except PlatformError as error:
            logger.info("account %s: no profile for conversation %s (%s)", account.pk, conversation.pk, error.code)
            Conversation.objects.filter(pk=conversation.pk).update(participant_looked_up_at=timezone.now())
            continue
        updates = {"participant_looked_up_at": timezone.now(), "participant_avatar_url": person.avatar_url[:1000]}
        if person.name and not conversation.participant_name:
            updates["participant_name"] = person.name[:255]
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
        done += 1
    return done


def _webhooks_quiet(state: InboxSyncState, now) -> bool:
    quiet_after = timedelta(hours=settings.INBOX_WEBHOOK_QUIET_HOURS)
    # A first poll finds history that predates the connection: not a webhook problem.
    if state.last_polled_at is None:
        return False
    return state.last_webhook_at is None or state.last_webhook_at < now - quiet_after


def _flag_quiet_webhooks(account: SocialAccount) -> None:
    # Added beside the account's other reasons, on the instance too: the re-subscribe below rebuilds
    # status_reason from the instance it is given and saves it, so a stale one would wipe this reason.
    account.refresh_from_db(fields=["status_reason"])
    reasons = split_reasons(account.status_reason)
    if QUIET_REASON not in reasons:
        account.status_reason = join_reasons([*reasons, QUIET_REASON])
        account.save(update_fields=["status_reason", "updated_at"])
    resubscribe = _find_resubscribe()
    if resubscribe is None:
        logger.warning("account %s: webhooks quiet; no re-subscribe helper available", account.pk)
        return
    try:
        resubscribe(account)
    except Exception as error:  # a failed re-subscribe must not lose the poll's results
        logger.warning("account %s: re-subscribe failed (%s)", account.pk, type(error).__name__)


def _find_resubscribe():
    """The social app owns webhook subscriptions (looked up at call time so tests can replace it)."""
    from social import services as social_services

    return social_services.subscribe_account_webhooks
