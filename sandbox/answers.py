"""The platforms' response shapes: Graph error envelopes and usage headers, TikTok envelopes.

Ref: platform-apis.md §1.9 (Graph errors, X-App-Usage, X-Business-Use-Case-Usage) and §2.1-2.2 (TikTok).
"""

from __future__ import annotations

import json
import secrets

from django.http import JsonResponse

from . import clock

# Default texts and types for the Graph codes the sandbox produces (as Meta words them).
GRAPH_ERRORS = {
    1: ("An unknown error occurred", "OAuthException"),
    2: ("An unexpected error has occurred. Please retry your request later.", "OAuthException"),
    4: ("(#4) Application request limit reached", "OAuthException"),
    10: ("(#10) Application does not have permission for this action", "OAuthException"),
    17: ("(#17) User request limit reached", "OAuthException"),
    32: ("(#32) Page request limit reached", "OAuthException"),
    100: ("(#100) Invalid parameter", "OAuthException"),
    190: ("Invalid OAuth access token - Cannot parse access token", "OAuthException"),
    200: ("(#200) Permissions error", "OAuthException"),
    368: ("(#368) The action attempted has been deemed abusive or is otherwise disallowed", "OAuthException"),
    506: ("(#506) Duplicate status message", "OAuthException"),
    613: ("(#613) Calls to this api have exceeded the rate limit.", "OAuthException"),
    803: ("(#803) Some of the aliases you requested do not exist", "OAuthException"),
    9004: ("Only photo or video can be accepted as media type.", "OAuthException"),
    9007: ("Media ID is not available", "OAuthException"),
    80001: ("(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
            "OAuthException"),
    80002: ("(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
            "OAuthException"),
}
TRANSIENT_CODES = {1, 2}


def trace_id() -> str:
    return secrets.token_urlsafe(8)


def log_id() -> str:
    return clock.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


def graph_error(code: int, message: str = "", *, subcode: int | None = None, status: int = 400,
                error_type: str = "", headers: dict | None = None) -> JsonResponse:
    default_message, default_type = GRAPH_ERRORS.get(code, ("An error occurred", "OAuthException"))
    error = {"message": message or default_message, "type": error_type or default_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if code in TRANSIENT_CODES:
        error["is_transient"] = True
    error["fbtrace_id"] = trace_id()
    response = JsonResponse({"error": error}, status=status)
    if code == 190:
        # Graph names the problem in this header as well on token errors.
        response["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{error["message"]}"'
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def usage_headers(percent: int, *, object_id: str = "", buc_type: str = "", regain_minutes: int = 0) -> dict:
    """X-App-Usage always; X-Business-Use-Case-Usage for Page/Instagram calls (all values percentages)."""
    headers = {"X-App-Usage": json.dumps({"call_count": percent, "total_time": max(percent // 2, 1),
                                          "total_cputime": max(percent // 2, 1)})}
    if object_id and buc_type:
        headers["X-Business-Use-Case-Usage"] = json.dumps({object_id: [{
            "type": buc_type, "call_count": percent, "total_cputime": max(percent // 2, 1),
            "total_time": max(percent // 2, 1), "estimated_time_to_regain_access": regain_minutes,
        }]})
    return headers


def tiktok_ok(data) -> JsonResponse:
    return JsonResponse({"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}})


def tiktok_error(code: str, message: str, status: int, data=None) -> JsonResponse:
    return JsonResponse({"data": data if data is not None else {},
                         "error": {"code": code, "message": message, "log_id": log_id()}}, status=status)


def tiktok_oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    # TikTok's OAuth endpoints answer errors flat, not in the API envelope (platform-apis.md §2.2).
    return JsonResponse({"error": error, "error_description": description, "log_id": log_id()}, status=status)
