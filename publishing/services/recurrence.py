"""Recurring posts: an RFC 5545 RRULE subset expanded by dateutil.rrule over local wall-clock times.

The rule repeats the first occurrence's local time in the workspace's timezone (09:00 stays 09:00
across daylight-saving changes; a nonexistent or ambiguous time follows slots.slot_instant's rule).
Each occurrence is an ordinary post (`series`, `series_at`) created ahead for
SCHEDULING_RECURRENCE_DAYS by `create_recurring_posts`; one per occurrence (a unique index).
Supported: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY (weekly only, no ordinal), UNTIL or COUNT.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from social.models import SocialAccount
from workspaces.models import Membership

from ..models import Post, PostSeries, PostTarget
from .slots import slot_instant

FREQS = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY}
DAYS = {"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR, "SA": rrule.SA, "SU": rrule.SU}
SUPPORTED = "FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY (weekly), UNTIL or COUNT"
MAX_COUNT = 1000


def rule_errors(text: str) -> list[str]:
    """[] when `text` is in the supported subset; otherwise messages, each naming the part refused."""
    try:
        parse_rule(text)
    except ValueError as error:
        return [str(error)]
    return []


def parse_rule(text: str) -> dict:
    """The rule's parts as rrule() keyword arguments (UNTIL still in UTC); ValueError naming the bad part."""
    body = text.strip()
    body = body[len("RRULE:"):] if body.upper().startswith("RRULE:") else body
    parts: dict[str, str] = {}
    for part in filter(None, body.split(";")):
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not value:
            raise ValueError(f"'{part}' is not NAME=VALUE.")
        if name not in ("FREQ", "INTERVAL", "BYDAY", "UNTIL", "COUNT"):
            raise ValueError(f"{name} is not supported (use {SUPPORTED}).")
        if name in parts:
            raise ValueError(f"{name} is given twice.")
        parts[name] = value.strip().upper()
    if parts.get("FREQ") not in FREQS:
        raise ValueError(f"FREQ must be DAILY, WEEKLY or MONTHLY, not {parts.get('FREQ', 'missing')}.")
    kwargs: dict = {"freq": FREQS[parts["FREQ"]]}
    if "INTERVAL" in parts:
        if not parts["INTERVAL"].isdigit() or not 1 <= int(parts["INTERVAL"]) <= 366:
            raise ValueError("INTERVAL must be a whole number from 1 to 366.")
        kwargs["interval"] = int(parts["INTERVAL"])
    if "BYDAY" in parts:
        if parts["FREQ"] != "WEEKLY":
            raise ValueError("BYDAY is supported with FREQ=WEEKLY only.")
        days = parts["BYDAY"].split(",")
        wrong = [d for d in days if d not in DAYS]
        if wrong:
            raise ValueError(f"BYDAY takes MO, TU, WE, TH, FR, SA, SU (no ordinal such as 1MO): {', '.join(wrong)}.")
        kwargs["byweekday"] = [DAYS[d] for d in days]
    if "UNTIL" in parts and "COUNT" in parts:
        raise ValueError("UNTIL and COUNT cannot both be given.")
    if "COUNT" in parts:
        if not parts["COUNT"].isdigit() or not 1 <= int(parts["COUNT"]) <= MAX_COUNT:
            raise ValueError(f"COUNT must be a whole number from 1 to {MAX_COUNT}.")
        kwargs["count"] = int(parts["COUNT"])
    if "UNTIL" in parts:
        kwargs["until"] = _until(parts["UNTIL"])
    return kwargs


def _until(value: str) -> datetime:
    if re.fullmatch(r"\d{8}", value):  # a date: that whole day (UTC) is included
        return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC) + timedelta(days=1, seconds=-1)
    if re.fullmatch(r"\d{8}T\d{6}Z", value):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    raise ValueError("UNTIL must be a UTC date-time (20261231T235959Z) or a date (20261231).")


def occurrences(series: PostSeries, after: datetime | None, until: datetime) -> list[datetime]:
    """The series' occurrence instants in (after, until] (after=None: from the first), before it ended."""
    zone = ZoneInfo(series.timezone)
    kwargs = parse_rule(series.rule)
    stop = kwargs.pop("until", None)
    local_start = series.starts_at.astimezone(zone).replace(tzinfo=None)
    instants = []
    for local in rrule.rrule(dtstart=local_start, **kwargs):
        instant = slot_instant(local.date(), local.time(), zone)
        if instant > until or (stop and instant > stop):
            break
        if series.ended_at and instant >= series.ended_at:
            break
        if after is None or instant > after:
            instants.append(instant)
    return instants


def start_series(post: Post, membership: Membership, data: dict) -> PostSeries:
    """Make `post` (already written, at its scheduled_at) the first occurrence of a new series; create the
    occurrences inside the window. Inside the caller's transaction."""
    template = {"text": data.get("text", ""), "link": data.get("link", ""), "first_comment": data.get("first_comment", ""),
                "media": [dict(m) for m in data.get("media") or []], "accounts": [a.pk for a in data["accounts"]],
                "options": data.get("options") or {}}
    series = PostSeries.objects.create(workspace=post.workspace, created_by=membership.user, rule=data["recurrence"],
                                       starts_at=post.scheduled_at, timezone=post.workspace.timezone, template=template,
                                       generated_until=post.scheduled_at)
    Post.objects.filter(pk=post.pk).update(series=series, series_at=post.scheduled_at)
    post.series, post.series_at = series, post.scheduled_at
    create_occurrences(series)
    return series


def create_occurrences(series: PostSeries, now: datetime | None = None) -> list[int]:
    """Create the series' posts up to now + SCHEDULING_RECURRENCE_DAYS; safe to run twice. Returns their ids."""
    from .posts import _write_media, _write_targets, needs_approval

    horizon = (now or timezone.now()) + timedelta(days=settings.SCHEDULING_RECURRENCE_DAYS)
    membership = Membership.objects.filter(workspace_id=series.workspace_id, user_id=series.created_by_id).first()
    if membership is None:  # the author left: nothing more is posted in their name
        PostSeries.objects.filter(pk=series.pk).update(ended_at=series.ended_at or timezone.now())
        return []
    accounts = list(SocialAccount.objects.in_workspace(series.workspace_id).filter(pk__in=series.template["accounts"]))
    created = []
    for instant in occurrences(series, series.generated_until, horizon):
        if not accounts or instant <= timezone.now():
            continue
        template = series.template
        try:
            with transaction.atomic():
                post = Post.objects.create(workspace_id=series.workspace_id, created_by_id=series.created_by_id,
                                           text=template["text"], link=template["link"],
                                           first_comment=template["first_comment"], scheduled_at=instant,
                                           series=series, series_at=instant,
                                           approval="pending" if needs_approval(membership) else "")
                _write_media(post, template["media"])
                _write_targets(post, accounts, template["options"], pending=needs_approval(membership))
        except IntegrityError:  # another run created this occurrence
            continue
        created.append(post.pk)
    PostSeries.objects.filter(pk=series.pk, generated_until__lt=horizon).update(generated_until=horizon)
    return created


def create_due_occurrences(now: datetime | None = None) -> int:
    """create_recurring_posts: every live series whose window moved on. Returns how many posts were made."""
    horizon = (now or timezone.now()) + timedelta(days=settings.SCHEDULING_RECURRENCE_DAYS)
    count = 0
    for series in PostSeries.objects.filter(ended_at__isnull=True, generated_until__lt=horizon):
        count += len(create_occurrences(series, now))
    return count


def cancel_series_from(post: Post, whole: bool = False, but: Post | None = None) -> int:
    """End the series at `post` (or entirely): cancels only its occurrences that have not started (not `but`)."""
    from .posts import cancel_targets

    series = post.series
    start = series.starts_at if whole else post.series_at
    with transaction.atomic():
        PostSeries.objects.filter(pk=series.pk).update(ended_at=start)
        posts = Post.objects.filter(series=series, series_at__gte=start).exclude(pk=but.pk if but else None)
        return cancel_targets(PostTarget.objects.filter(post__in=posts))


def edit_following(post: Post, data: dict, membership: Membership) -> Post:
    """"This and following": the old series ends before `post`; `post` (edited) starts a new one with the new
    content and rule, and the old series' later unstarted occurrences are cancelled (the new series makes its own)."""
    from .posts import update_post

    old = post.series
    rule = data.get("recurrence") or old.rule
    if "count" in parse_rule(rule) and not data.get("recurrence"):  # the occurrences left of the old COUNT
        done = len(occurrences(old, None, post.series_at - timedelta(seconds=1)))
        rule = re.sub(r"COUNT=\d+", f"COUNT={max(parse_rule(old.rule)['count'] - done, 1)}", rule, flags=re.I)
    with transaction.atomic():
        cancel_series_from(post, but=post)
        Post.objects.filter(pk=post.pk).update(series=None, series_at=None)
        update_post(post, data, membership)
        post.refresh_from_db()
        if post.scheduled_at:
            start_series(post, membership, {**data, "recurrence": rule})
    return post
