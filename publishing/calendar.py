"""The calendar: every post of the workspace in a period, grouped by local day (GET /api/v1/calendar/).

A post appears at each distinct time of its targets: when it was published, else when it is
scheduled (a queued post's targets may fill slots on different days), else when it was written
(publish now). Cancelled targets are left out. Two queries whatever the period: targets with
their posts and accounts, then the posts' first media.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db.models import F
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from workspaces.access import workspace_of

from .models import Approval, MediaType, PostMedia, PostTarget, TargetStatus

MAX_MONTHS = 3
TEXT_PREVIEW = 140


class CalendarQuerySerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared under another name and renamed below.
    from_ = serializers.DateField(help_text="First local day (YYYY-MM-DD), included.")
    to = serializers.DateField(help_text=f"Last local day (YYYY-MM-DD), included; at most {MAX_MONTHS} months after `from`.")
    tz = serializers.CharField(required=False, help_text="IANA timezone of the days (default: the workspace's).")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate_tz(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"{value!r} is not an IANA timezone such as Europe/Paris or UTC.")
        return value

    def validate(self, data: dict) -> dict:
        first, last = data["from"], data["to"]
        if last < first:
            raise serializers.ValidationError({"to": ["Choose a day on or after `from`."]})
        if last >= first + relativedelta(months=MAX_MONTHS):
            raise serializers.ValidationError({"to": [
                f"At most {MAX_MONTHS} months per call: from {first} the last day is "
                f"{first + relativedelta(months=MAX_MONTHS) - timedelta(days=1)}. Ask for the rest in another call."]})
        return data


class CalendarThumbnailSerializer(serializers.Serializer):
    url = serializers.URLField()
    type = serializers.ChoiceField(choices=MediaType.choices)


class CalendarTargetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField()
    platform = serializers.CharField()
    account_name = serializers.CharField()
    status = serializers.ChoiceField(choices=TargetStatus.choices)
    permalink = serializers.CharField()
    from_queue = serializers.BooleanField(help_text="It fills a posting-queue slot.")


class CalendarEntrySerializer(serializers.Serializer):
    post = serializers.IntegerField()
    at = serializers.DateTimeField(help_text="UTC: published, else scheduled, else written (publish now).")
    local_time = serializers.CharField(help_text="HH:MM in the calendar's timezone.")
    text = serializers.CharField(help_text=f"The first {TEXT_PREVIEW} characters.")
    approval = serializers.ChoiceField(choices=Approval.choices)
    statuses = serializers.ListField(child=serializers.ChoiceField(choices=TargetStatus.choices),
                                     help_text="Its targets' statuses at this time, each once.")
    thumbnail = CalendarThumbnailSerializer(allow_null=True, help_text="The first media item, or null.")
    targets = CalendarTargetSerializer(many=True)


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    posts = CalendarEntrySerializer(many=True)


class CalendarSerializer(serializers.Serializer):
    timezone = serializers.CharField()
    days = CalendarDaySerializer(many=True, help_text="Every day of the period, in order, empty ones included.")


def local_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days first..last (midnight that does not exist: just after the gap)."""
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def get_calendar(workspace, first: date, last: date, zone: ZoneInfo) -> dict:
    """The workspace's posts from `first` to `last` (local days in `zone`), grouped by day. Two queries."""
    start, end = local_bounds(first, last, zone)
    targets = list(PostTarget.objects.filter(post__workspace=workspace).exclude(status=TargetStatus.CANCELLED)
                   .annotate(at=Coalesce("published_at", "scheduled_at", F("post__created_at")))
                   .filter(at__gte=start, at__lt=end)
                   .select_related("post", "account")
                   .defer("account__access_token", "account__refresh_token")  # nothing here sends: no decryption
                   .order_by("at", "post_id", "id"))
    thumbnails: dict[int, dict] = {}
    for media in PostMedia.objects.filter(post_id__in={t.post_id for t in targets}).order_by("post_id", "position", "id"):
        thumbnails.setdefault(media.post_id, {"url": media.url, "type": media.type})
    entries: dict[tuple[int, datetime], dict] = {}
    for target in targets:
        entry = entries.setdefault((target.post_id, target.at), _entry(target, zone, thumbnails.get(target.post_id)))
        entry["targets"].append({"id": target.pk, "account": target.account_id, "platform": target.account.platform,
                                 "account_name": str(target.account), "status": target.status,
                                 "permalink": target.permalink, "from_queue": target.slot_at is not None})
        if target.status not in entry["statuses"]:
            entry["statuses"].append(target.status)
    days = {first + timedelta(days=n): [] for n in range((last - first).days + 1)}
    for entry in entries.values():
        days[entry["at"].astimezone(zone).date()].append(entry)
    return {"timezone": zone.key, "days": [{"date": day, "posts": posts} for day, posts in days.items()]}


def _entry(target: PostTarget, zone: ZoneInfo, thumbnail: dict | None) -> dict:
    return {"post": target.post_id, "at": target.at, "local_time": target.at.astimezone(zone).strftime("%H:%M"),
            "text": target.post.text[:TEXT_PREVIEW], "approval": target.post.approval, "statuses": [],
            "thumbnail": thumbnail, "targets": []}


@extend_schema(parameters=[CalendarQuerySerializer], responses=CalendarSerializer)
@api_view(["GET"])
def calendar(request):
    """Every post of the workspace in a period (at most 3 months), grouped by local day, for a calendar view."""
    workspace = workspace_of(request)
    query = CalendarQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    zone = ZoneInfo(query.validated_data.get("tz") or workspace.timezone)
    data = get_calendar(workspace, query.validated_data["from"], query.validated_data["to"], zone)
    return Response(CalendarSerializer(data).data)
