"""Posting queues: an account's weekly slots, and targets that take the next free one.

A slot is an account and an aware UTC instant, computed from the schedule's weekly local times in the
workspace's timezone. A target filling one is an ordinary `scheduled` target (publish_due picks it when
due) whose `slot_at` names the slot; the database index `uniq_queue_slot` keeps one holder per slot.

Daylight-saving rule (zoneinfo, PEP 495):
- a local time that does not exist that day (spring forward, 02:30 in Europe/Paris on the last Sunday of
  March) is shifted forward by the gap: the slot is at 03:30 local, once;
- a local time that happens twice (fall back, 02:30 in Europe/Paris on the last Sunday of October) is
  the first occurrence (fold=0, still summer time), once;
- when such a shift lands on another slot of the same day, the day has one slot at that instant.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from unipulse import hooks
from unipulse.api_errors import ApiError
from workspaces.services import record

from ..models import HOLDS_SLOT, PostingSchedule, PostTarget, ScheduleTime, TargetStatus

HORIZON_DAYS = 366  # a queue with no free slot within a year is full
MOVABLE = (TargetStatus.PENDING_APPROVAL, TargetStatus.SCHEDULED)  # reorder/shuffle/resume move only these


def slot_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local `at` on `day` in `zone`, by the module's daylight-saving rule."""
    # fold=0: a nonexistent time takes the offset in force before the gap (so it lands after it by
    # the gap's length); an ambiguous time takes its first occurrence.
    return datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=zone).astimezone(UTC)


def upcoming_slots(times: Iterable[tuple[int, time]], zone: ZoneInfo, after: datetime,
                   days: int = HORIZON_DAYS) -> Iterator[datetime]:
    """The schedule's slot instants strictly after `after`, in order, each once, for `days` local days."""
    by_weekday: dict[int, list[time]] = {}
    for weekday, at in times:
        by_weekday.setdefault(weekday, []).append(at)
    if not by_weekday:
        return
    first = after.astimezone(zone).date() - timedelta(days=1)  # a day whose late slots fall after `after` in UTC
    for offset in range(days + 2):
        day = first + timedelta(days=offset)
        instants = sorted({slot_instant(day, at, zone) for at in by_weekday.get(day.weekday(), [])})
        yield from (instant for instant in instants if instant > after)


def get_schedule(account) -> PostingSchedule | None:
    return PostingSchedule.objects.filter(account=account).prefetch_related("times").first()


def schedule_times(schedule: PostingSchedule | None) -> list[tuple[int, time]]:
    return [(t.weekday, t.time) for t in schedule.times.all()] if schedule else []


def zone_of(account) -> ZoneInfo:
    return ZoneInfo(account.workspace.timezone)


def queue_errors(accounts: Iterable) -> list[str]:
    """Why these accounts cannot take a next free slot ([] when all can): no schedule, no times, paused."""
    schedules = {s.account_id: s for s in PostingSchedule.objects.filter(account__in=list(accounts))
                 .prefetch_related("times")}
    problems = []
    for account in accounts:
        schedule = schedules.get(account.pk)
        if schedule is None or not schedule.times.all():
            problems.append(f"{account} has no posting schedule: add time slots first "
                            f"(PUT /api/v1/accounts/{account.pk}/schedule/).")
        elif schedule.paused:
            problems.append(f"{account}'s queue is paused: resume it, or give the post a time.")
    return problems


def taken_slots(account_id: int, after: datetime) -> set[datetime]:
    return set(PostTarget.objects.filter(account_id=account_id, slot_at__gt=after, status__in=HOLDS_SLOT)
               .values_list("slot_at", flat=True))


def save_in_next_free_slot(target: PostTarget, after: datetime | None = None) -> datetime:
    """Save `target` (new or not) in its account's first free slot after `after` (now). Returns the slot.

    Inside the caller's transaction. The free slots are read first; when a concurrent transaction takes
    the same one, the unique index refuses this write (PostgreSQL waits for the other to commit) and the
    next slot is tried. Raises ApiError 409 `queue_full` when no slot is free within HORIZON_DAYS.
    """
    after = after or timezone.now()
    account = target.account
    taken = taken_slots(account.pk, after)
    for instant in upcoming_slots(schedule_times(get_schedule(account)), zone_of(account), after, HORIZON_DAYS):
        if instant in taken:
            continue
        target.slot_at = target.scheduled_at = instant
        try:
            with transaction.atomic():  # a savepoint: a refused write leaves the outer transaction usable
                target.save()
        except IntegrityError:
            taken.add(instant)  # another request took it in the meantime
            if target.pk and not PostTarget.objects.filter(pk=target.pk).exists():
                target.pk = None  # the refused INSERT gave it no row
            continue
        return instant
    raise ApiError("queue_full", f"{account} has no free slot in its posting schedule in the next "
                   f"{HORIZON_DAYS} days.", 409)


def write_queued_targets(post, accounts: list, options: dict, pending: bool,
                         keep: dict[int, datetime] | None = None) -> None:
    """Create one target per account, each in the next free slot of its account (or the slot it had, `keep`).

    The post's own `scheduled_at` becomes its earliest slot (what approval, expiry and the post list read).
    """
    status = TargetStatus.PENDING_APPROVAL if pending else TargetStatus.SCHEDULED
    for account in sorted(accounts, key=lambda a: a.pk):
        target = PostTarget(post=post, account=account, status=status, options=options.get(account.platform) or {},
                            first_comment=post.first_comment if account.platform != "tiktok" else "")
        kept = (keep or {}).get(account.pk)
        if kept is not None and kept > timezone.now():
            target.slot_at = target.scheduled_at = kept
            target.save()
        else:
            save_in_next_free_slot(target)
    _sync_post_time([post.pk])
    post.refresh_from_db(fields=["scheduled_at"])


def held_slots(post) -> dict[int, datetime]:
    """{account id: slot} of the post's targets holding an upcoming slot (kept across an edit)."""
    return dict(post.targets.filter(slot_at__gt=timezone.now(), status__in=HOLDS_SLOT)
                .values_list("account_id", "slot_at"))


def _sync_post_time(post_ids: Iterable[int]) -> None:
    from ..models import Post

    for post_id, earliest in (PostTarget.objects.filter(post_id__in=set(post_ids), slot_at__isnull=False)
                              .values("post_id").annotate(first=Min("scheduled_at")).values_list("post_id", "first")):
        Post.objects.filter(pk=post_id).update(scheduled_at=earliest, updated_at=timezone.now())


# ---- the schedule -------------------------------------------------------------------------------

def replace_schedule(account, paused: bool, times: list[tuple[int, time]], actor=None) -> PostingSchedule:
    """Replace the account's weekly times and paused flag. Posts already queued keep their slots.

    Resuming a paused queue moves the posts it held back (their slot passed) to the next free slots.
    """
    with transaction.atomic():
        schedule, _ = PostingSchedule.objects.select_for_update().get_or_create(account=account)
        resumed = schedule.paused and not paused
        schedule.paused = paused
        schedule.save()
        schedule.times.all().delete()
        ScheduleTime.objects.bulk_create(ScheduleTime(schedule=schedule, weekday=d, time=t.replace(second=0, microsecond=0))
                                         for d, t in sorted(set(times)))
        if resumed:
            _refill_held_back(account)
        record(account.workspace_id, actor, "schedule.replaced", account,
               f"Posting schedule of {account}: {len(set(times))} weekly slot(s)" + (", paused." if paused else "."))
    return get_schedule(account)


def fill_schedule_from_best_times(account, count: int, minute: int = 0, actor=None) -> PostingSchedule:
    """Replace the account's weekly times with its `count` best hours of the week (at `minute` past each).

    Analytics ranks the hours (the `best_posting_hours` hook: publishing never reads analytics' tables).
    The paused flag is kept. Raises ApiError 409 `not_enough_data` when no hour has enough posts yet.
    """
    hours = hooks.best_posting_hours(account.workspace, account.pk, count)
    if not hours:
        raise ApiError("not_enough_data", f"No hour of the week has {settings.ANALYTICS_BEST_TIMES_MIN_POSTS} measured "
                       f"posts of {account} yet (GET /api/v1/analytics/accounts/{account.pk}/best-times/): sync its "
                       "analytics, or set the times yourself (PUT .../schedule/).", 409)
    schedule = get_schedule(account)
    return replace_schedule(account, bool(schedule and schedule.paused), [(d, time(h, minute)) for d, h in hours], actor)


def _refill_held_back(account) -> None:
    """Targets whose slot passed while the queue was paused take the next free slots, in their order."""
    held = list(PostTarget.objects.select_for_update().select_related("account__workspace")
                .filter(account=account, status__in=MOVABLE, slot_at__lte=timezone.now()).order_by("slot_at", "pk"))
    for target in held:
        save_in_next_free_slot(target)
    _sync_post_time(t.post_id for t in held)


# ---- the queue ----------------------------------------------------------------------------------

def get_queue(account, count: int = 20) -> list[dict]:
    """The next `count` slots of the account, with the target filling each (or None), in time order.

    A target holding an upcoming slot that is no longer in the schedule (the schedule changed) is listed
    too, at its time.
    """
    now = timezone.now()
    filled = {t.slot_at: t for t in PostTarget.objects.select_related("post").filter(
        account=account, slot_at__gt=now, status__in=HOLDS_SLOT).order_by("slot_at")[:count]}
    slots: set[datetime] = set(filled)
    for instant in upcoming_slots(schedule_times(get_schedule(account)), zone_of(account), now):
        if len(slots) >= count and instant > max(slots):
            break
        slots.add(instant)
    return [{"at": at, "target": filled.get(at)} for at in sorted(slots)[:count]]


def queued_targets(account) -> list[PostTarget]:
    return list(PostTarget.objects.select_for_update().filter(
        account=account, slot_at__gt=timezone.now(), status__in=MOVABLE).order_by("slot_at", "pk"))


def reorder_queue(account, target_ids: list[int], actor=None) -> None:
    """Put the account's queued targets in this order over the slots they already fill.

    `target_ids` must name each upcoming queued target (pending approval or scheduled) exactly once;
    ApiError 400 otherwise. The set of filled slots does not change, only who fills which.
    """
    with transaction.atomic():
        PostingSchedule.objects.select_for_update().filter(account=account).first()  # one queue edit at a time
        current = {t.pk: t for t in queued_targets(account)}
        if sorted(target_ids) != sorted(current):
            raise ApiError("queue_changed", "List each queued target of this account once (GET .../queue/ "
                           f"shows them): expected {sorted(current)}.", 400, fields={"targets": ["Not the queue's targets."]})
        _assign([current[pk] for pk in target_ids], sorted(t.slot_at for t in current.values()))
        record(account.workspace_id, actor, "queue.reordered", account, f"Reordered the queue of {account}.")


def shuffle_queue(account, actor=None, rng: random.Random | None = None) -> None:
    """Shuffle the account's queued targets over the slots they already fill."""
    with transaction.atomic():
        PostingSchedule.objects.select_for_update().filter(account=account).first()
        targets = queued_targets(account)
        order = targets[:]
        (rng or random.SystemRandom()).shuffle(order)
        _assign(order, sorted(t.slot_at for t in targets))
        record(account.workspace_id, actor, "queue.shuffled", account, f"Shuffled the queue of {account}.")


def _assign(targets: list[PostTarget], instants: list[datetime]) -> None:
    """Give targets[i] the slot instants[i]: first free them all (the unique index is not deferred)."""
    PostTarget.objects.filter(pk__in=[t.pk for t in targets]).update(slot_at=None)
    now = timezone.now()
    for target, instant in zip(targets, instants, strict=True):
        PostTarget.objects.filter(pk=target.pk).update(slot_at=instant, scheduled_at=instant, updated_at=now)
    _sync_post_time(t.post_id for t in targets)


def not_held_back(targets):
    """publish_due's candidates less the targets filling a slot of a paused queue (held until resumed)."""
    paused = PostingSchedule.objects.filter(paused=True).values("account_id")
    return targets.exclude(slot_at__isnull=False, account_id__in=paused)
