"""OAuth initiation and callback views: parse, call one function in social.oauth, answer."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from unipulse.api_errors import ratelimited_view
from unipulse.throttles import is_limited
from workspaces.access import current_membership

from . import oauth


def _too_fast(request, group: str, rate: str) -> bool:
    return is_limited(request, group, rate)


class OAuthStartView(APIView):
    """Start connecting an account: 302 to the platform's dialog, or its URL as JSON for SPAs."""

    @extend_schema(responses={
        200: inline_serializer("AuthorizationUrl", {"authorization_url": serializers.URLField()}),
        302: OpenApiResponse(description="Redirect to the platform's consent dialog (browser navigation)."),
        429: OpenApiResponse(description="Too many connect attempts."),
    })
    def get(self, request, platform: str):
        if _too_fast(request, "oauth-initiate", settings.OAUTH_INITIATE_RATE):
            return ratelimited_view(request)
        url = oauth.build_authorization_url(current_membership(request), platform)
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"authorization_url": url})
        return HttpResponseRedirect(url)


class OAuthCallbackView(APIView):
    """Where the platform sends the browser back. Always ends in a redirect to the frontend.

    Open to anonymous callers: a frontend signed in with an API token has no session here, so
    the single-use state (bound to its user) is what authenticates the round-trip.
    """

    permission_classes = [AllowAny]
    checks_unsafe_query = True  # a NUL in `state` is answered here as invalid_state (UnsafeTextMiddleware)

    @extend_schema(parameters=[], responses={302: OpenApiResponse(
        OpenApiTypes.NONE,
        description="Redirect to FRONTEND_URL with result=connected&platform=..&accounts=ids or error=<code> "
                    "(access_denied, invalid_state, exchange_failed, missing_permissions, rate_limited, connect_failed, not_allowed: "
                    "the member is no longer an admin of the workspace the connect started in).",
    )})
    def get(self, request, platform: str):
        if _too_fast(request, "oauth-callback", settings.OAUTH_CALLBACK_RATE):
            result = oauth.ConnectResult(platform=platform, error=oauth.RATE_LIMITED)
        else:
            result = oauth.complete_oauth(platform, request.query_params, request.user)
        return HttpResponseRedirect(result.redirect_url())

    def handle_exception(self, exc):
        # A browser lands here: whatever failed (the session lookup with the database down, the
        # limiter), it still ends on the frontend with a code, never on a JSON error or a traceback.
        oauth.log_unexpected("OAuth callback view", exc)
        result = oauth.ConnectResult(platform=self.kwargs.get("platform", ""), error=oauth.CONNECT_FAILED)
        return HttpResponseRedirect(result.redirect_url())
