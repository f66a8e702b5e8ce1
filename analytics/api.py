"""Analytics API: thin views over analytics.services (reads, and "sync now", which only enqueues)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from social.models import get_account_in_workspace
from unipulse.api_errors import ApiError, ErrorSerializer
from unipulse.conventions import ACCOUNT_ID_PARAMETER
from unipulse.throttles import enforce
from workspaces.access import workspace_of

from . import services
from .serializers import (
    AccountReportSerializer,
    PostReportSerializer,
    SummarySerializer,
    TrackedPostFilterSerializer,
    TrackedPostReportSerializer,
    TrackedPostSerializer,
)
from .services import InvalidPeriodError
from .services.best_times import get_best_times_in_workspace

# ?from=&to= as services.parse_period reads them: a date or an ISO 8601 date-time, UTC when it has no offset.
_DATE_OR_DATETIME = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}
PERIOD = [
    OpenApiParameter("from", _DATE_OR_DATETIME, OpenApiParameter.QUERY, description=(
        "Start: a date (YYYY-MM-DD, from its first moment) or an ISO 8601 date-time. Default: 30 days before `to`.")),
    OpenApiParameter("to", _DATE_OR_DATETIME, OpenApiParameter.QUERY, description=(
        "End: a date (YYYY-MM-DD, up to its last moment) or an ISO 8601 date-time. Default: now.")),
]
INVALID_PERIOD = OpenApiResponse(ErrorSerializer, description="`invalid_period`: `from`/`to` is not a date or "
                                 "date-time, falls outside the years 1 to 9999 in UTC, or `from` is after `to`.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="`not_found`: no such id among the caller's.")


def _id(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=what)


def _period(request: Request):
    try:
        return services.parse_period(request.query_params.get("from"), request.query_params.get("to"))
    except InvalidPeriodError as error:
        raise ApiError("invalid_period", str(error), 400) from None


@extend_schema(parameters=[_id("account_id", "One of the caller's connected accounts."), *PERIOD],
               responses={200: AccountReportSerializer, 400: INVALID_PERIOD, 404: NOT_FOUND})
@api_view(["GET"])
def account_report(request: Request, account_id: int) -> Response:
    """Follower series and post totals of one of the caller's accounts for ?from=&to=."""
    start, end = _period(request)
    return Response(AccountReportSerializer(services.get_account_report_in_workspace(
        workspace_of(request), account_id, start, end)).data)


@extend_schema(parameters=[_id("post_id", "A publishing post (/api/v1/posts/{id}/) of the caller's.")],
               responses={200: PostReportSerializer, 404: NOT_FOUND})
@api_view(["GET"])
def post_report(request: Request, post_id: int) -> Response:
    """Each target of a publishing post (by its id) with its metric series."""
    try:
        report = services.get_post_targets_in_workspace(workspace_of(request), post_id)
    except LookupError:
        raise ApiError("not_found", "Not found.", 404) from None
    return Response(PostReportSerializer(report).data)


class BestTimeBucketSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    hour = serializers.IntegerField(min_value=0, max_value=23, help_text="Local hour in the workspace's timezone.")
    posts = serializers.IntegerField(help_text="The account's posts published in that hour of the week.")
    engagement_rate = serializers.FloatField(help_text=(
        "Mean of those posts' (likes + comments + shares + saves) / reach (views where there is no reach)."))
    rank = serializers.IntegerField(help_text="1 is the best.")


class BestTimesSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    timezone = serializers.CharField(help_text="The workspace's timezone the buckets are in.")
    since = serializers.DateTimeField(help_text="Posts published since then count (ANALYTICS_BEST_TIMES_DAYS).")
    min_posts = serializers.IntegerField(help_text="A bucket with fewer posts is not shown (ANALYTICS_BEST_TIMES_MIN_POSTS).")
    posts_considered = serializers.IntegerField(help_text="Posts with a reach or views figure, in every bucket.")
    buckets = BestTimeBucketSerializer(many=True, help_text="Best first; [] until some hour has min_posts posts.")


@extend_schema(parameters=[_id("account_id", "One of the workspace's accounts.")],
               responses={200: BestTimesSerializer, 404: NOT_FOUND})
@api_view(["GET"])
def best_times(request: Request, account_id: int) -> Response:
    """Hours of the week ranked by this account's own engagement rate (2 queries). Fill the posting schedule
    from them with POST /api/v1/accounts/{id}/schedule/from-best-times/."""
    return Response(BestTimesSerializer(get_best_times_in_workspace(workspace_of(request), account_id)).data)


class TrackedPostList(generics.ListAPIView):
    """The caller's tracked posts, newest first, paginated. Filters: account, platform, source."""

    serializer_class = TrackedPostSerializer

    def get_queryset(self):
        filters = TrackedPostFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)  # a bad filter is a 400 naming it, not a wider list
        return services.get_tracked_posts_in_workspace(workspace_of(self.request), **filters.validated_data)

    @extend_schema(parameters=[TrackedPostFilterSerializer, ACCOUNT_ID_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(parameters=[_id("tracked_post_id", "A tracked post of the caller's (/api/v1/analytics/tracked-posts/).")],
               responses={200: TrackedPostReportSerializer, 404: NOT_FOUND})
@api_view(["GET"])
def tracked_post_report(request: Request, tracked_post_id: int) -> Response:
    """One tracked post (published with UniPulse or elsewhere) with its metric series."""
    return Response(TrackedPostReportSerializer(services.get_tracked_post_in_workspace(
        workspace_of(request), tracked_post_id)).data)


@extend_schema(parameters=PERIOD, responses={200: SummarySerializer, 400: INVALID_PERIOD})
@api_view(["GET"])
def summary(request: Request) -> Response:
    """Per-platform and per-account totals of the caller's posts published in ?from=&to=."""
    start, end = _period(request)
    return Response(SummarySerializer(services.get_summary_in_workspace(workspace_of(request), start, end)).data)


class SyncRequestSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    queued = serializers.BooleanField(help_text="false: a sync finished too recently; nothing was queued.")
    runs_after = serializers.DateTimeField(help_text="When the sync may run (queued), or the next may be asked for.")
    last_synced_at = serializers.DateTimeField(allow_null=True)


@extend_schema(request=None, parameters=[_id("pk", "One of the workspace's accounts.")], responses={
    202: SyncRequestSerializer, 409: OpenApiResponse(ErrorSerializer, description=(
        "`sync_too_soon`: the last sync finished less than ANALYTICS_MIN_SYNC_MINUTES ago; `Retry-After` says "
        "when to ask again.")), 404: NOT_FOUND})
@api_view(["POST"])
def sync_account_now(request: Request, pk: int) -> Response:
    """"Sync now": queue an analytics sync of one account on the analytics-sync queue."""
    account = get_account_in_workspace(workspace_of(request), pk)
    enforce(request, "api-write")
    result = services.request_sync(account)
    if not result["queued"]:
        wait = max(1, int((result["runs_after"] - timezone.now()).total_seconds()))
        raise ApiError("sync_too_soon", f"{account} was synced less than {settings.ANALYTICS_MIN_SYNC_MINUTES} "
                       f"minutes ago; ask again in {wait} seconds.", 409, retry_after=wait)
    return Response(SyncRequestSerializer({"account": account.pk, **result}).data, status=202)
