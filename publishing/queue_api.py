"""Posting queues API: an account's weekly schedule, its upcoming slots, reorder and shuffle."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from social.models import get_account_in_workspace
from unipulse.api_errors import ErrorSerializer
from unipulse.conventions import local_datetime
from unipulse.throttles import WriteRateLimitMixin
from workspaces.access import workspace_of

from .models import TargetStatus
from .services import slots

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class SlotTimeSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=WEEKDAYS, help_text="mon … sun")
    time = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"], help_text="HH:MM, the workspace's local time.")


class ScheduleSerializer(serializers.Serializer):
    account = serializers.IntegerField(read_only=True)
    timezone = serializers.CharField(read_only=True, help_text="The workspace's timezone the times are in.")
    paused = serializers.BooleanField(default=False, help_text=(
        "Paused: no post takes a slot, and queued posts whose slot comes are held back; resuming moves them to "
        "the next free slots."))
    times = SlotTimeSerializer(many=True, max_length=7 * 48, help_text="The weekly slots; [] empties the schedule.")


class QueueTargetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post = serializers.IntegerField(source="post_id")
    status = serializers.ChoiceField(choices=TargetStatus.choices)
    text = serializers.CharField(source="post.text")


class QueueSlotSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="The slot's instant (UTC).")
    local = serializers.CharField(help_text=(
        "Deliberately local: the same instant in the workspace's timezone, ISO 8601 with that zone's offset "
        "(2026-12-03T15:15:00+05:45; +00:00 for a UTC workspace). Every other datetime is UTC with a Z."))
    target = QueueTargetSerializer(allow_null=True, help_text="The target filling it; null: free.")


class QueueSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    timezone = serializers.CharField()
    paused = serializers.BooleanField()
    slots = QueueSlotSerializer(many=True)


class QueueFilterSerializer(serializers.Serializer):
    count = serializers.IntegerField(required=False, default=20, min_value=1, max_value=200,
                                     help_text="How many upcoming slots (1-200, default 20).")


class ReorderSerializer(serializers.Serializer):
    targets = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), allow_empty=True,
                                    help_text="Every queued target of the account (see .../queue/), in the new order.")


class FromBestTimesSerializer(serializers.Serializer):
    count = serializers.IntegerField(required=False, default=5, min_value=1, max_value=7 * 24, help_text=(
        "How many of the best hours of the week become weekly slots (default 5)."))
    minute = serializers.IntegerField(required=False, default=0, min_value=0, max_value=59, help_text=(
        "Minutes past each of those hours (default 0: on the hour)."))


def schedule_data(account) -> dict:
    schedule = slots.get_schedule(account)
    return {"account": account.pk, "timezone": account.workspace.timezone, "paused": bool(schedule and schedule.paused),
            "times": [{"weekday": WEEKDAYS[d], "time": t} for d, t in slots.schedule_times(schedule)]}


def queue_data(account, count: int) -> dict:
    zone = ZoneInfo(account.workspace.timezone)
    schedule = slots.get_schedule(account)
    entries = [{**entry, "local": local_datetime(entry["at"], zone)} for entry in slots.get_queue(account, count)]
    return {"account": account.pk, "timezone": account.workspace.timezone, "paused": bool(schedule and schedule.paused),
            "slots": entries}


class AccountScheduleView(WriteRateLimitMixin, APIView):
    serializer_class = ScheduleSerializer

    def get_account(self):
        return get_account_in_workspace(workspace_of(self.request), self.kwargs["pk"])

    @extend_schema(responses=ScheduleSerializer)
    def get(self, request, pk: int):
        """The account's posting schedule: weekly local times and whether the queue is paused."""
        return Response(ScheduleSerializer(schedule_data(self.get_account())).data)

    @extend_schema(request=ScheduleSerializer, responses=ScheduleSerializer)
    def put(self, request, pk: int):
        """Replace the posting schedule. Posts already queued keep their slots (reorder or shuffle to move them)."""
        account = self.get_account()
        body = ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        times = [(WEEKDAYS.index(t["weekday"]), t["time"]) for t in body.validated_data["times"]]
        slots.replace_schedule(account, body.validated_data["paused"], times, request.user)
        return Response(ScheduleSerializer(schedule_data(account)).data)


class AccountScheduleFromBestTimesView(WriteRateLimitMixin, APIView):
    serializer_class = FromBestTimesSerializer

    @extend_schema(request=FromBestTimesSerializer, responses={200: ScheduleSerializer, 409: OpenApiResponse(
        ErrorSerializer, description="`not_enough_data`: no hour of the week has ANALYTICS_BEST_TIMES_MIN_POSTS "
        "measured posts yet.")})
    def post(self, request, pk: int):
        """Replace the weekly slots with the account's best hours of the week (GET /api/v1/analytics/accounts/{id}/
        best-times/, best first). The paused flag and posts already queued stay as they are."""
        account = get_account_in_workspace(workspace_of(request), pk)
        body = FromBestTimesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        slots.fill_schedule_from_best_times(account, body.validated_data["count"], body.validated_data["minute"],
                                            request.user)
        return Response(ScheduleSerializer(schedule_data(account)).data)


class AccountQueueView(APIView):
    serializer_class = QueueSerializer

    @extend_schema(parameters=[QueueFilterSerializer], responses=QueueSerializer)
    def get(self, request, pk: int):
        """The account's upcoming slots in time order, each with the post filling it (or free)."""
        account = get_account_in_workspace(workspace_of(request), pk)
        query = QueueFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(QueueSerializer(queue_data(account, query.validated_data["count"])).data)


class AccountQueueReorderView(WriteRateLimitMixin, APIView):
    serializer_class = ReorderSerializer

    @extend_schema(request=ReorderSerializer, responses=QueueSerializer)
    def post(self, request, pk: int):
        """Put the queued posts in a new order over the slots they fill (the filled slots stay the same)."""
        account = get_account_in_workspace(workspace_of(request), pk)
        body = ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        slots.reorder_queue(account, body.validated_data["targets"], request.user)
        return Response(QueueSerializer(queue_data(account, 20)).data)


class AccountQueueShuffleView(WriteRateLimitMixin, APIView):
    @extend_schema(request=None, responses=QueueSerializer)
    def post(self, request, pk: int):
        """Shuffle the queued posts over the slots they fill."""
        account = get_account_in_workspace(workspace_of(request), pk)
        slots.shuffle_queue(account, request.user)
        return Response(QueueSerializer(queue_data(account, 20)).data)


