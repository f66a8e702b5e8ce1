"""The Instagram Login path: instagram.com's consent dialog, api.instagram.com's code exchange and the
graph.instagram.com token endpoints and /me, for the sandbox's Instagram professional accounts.

Shapes follow Meta's Business Login guide: the code exchange answers `{"data": [{access_token, user_id,
permissions}]}` and refuses in the older flat shape (`error_type`, `code`, `error_message`); the token
endpoints and /me answer and refuse like Graph. Ref: docs/platforms.md, "Instagram Login path".
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import answers, clock
from .dialogs import _problem, _redirect, _valid_redirect
from .models import AuthCode, InstagramAccount, Token, new_token
from .seed import ensure_world

CODE_LIFETIME = timedelta(minutes=10)
SHORT_LIVED = timedelta(hours=1)
LONG_LIVED = 5183944  # seconds (~60 days), the value Meta's docs print
MIN_REFRESH_AGE = timedelta(hours=24)


@require_http_methods(["GET", "POST"])
def dialog(request: HttpRequest) -> HttpResponse:
    """instagram.com/oauth/authorize: pick one professional account, Allow or Not now."""
    params = request.GET if request.method == "GET" else request.POST
    client_id, redirect_uri, state = params.get("client_id", ""), params.get("redirect_uri", ""), params.get("state", "")
    if client_id != settings.INSTAGRAM_APP_ID:
        return _problem(request, "Invalid app ID", "The provided app ID is not an Instagram app ID.")
    if not _valid_redirect(redirect_uri):
        return _problem(request, "Invalid redirect_uri", "The redirect_uri is not valid for this app.")
    scopes = [s for s in params.get("scope", "").split(",") if s]
    ensure_world()
    accounts = InstagramAccount.objects.order_by("ig_id")
    if request.method == "GET":
        return render(request, "sandbox/instagram_dialog.html", {
            "accounts": accounts, "scopes": scopes, "client_id": client_id, "redirect_uri": redirect_uri,
            "state": state, "scope": params.get("scope", ""), "host": redirect_uri.split("/")[2],
        })
    if params.get("action") != "approve":
        # Meta's denial: error, error_reason and error_description on the redirect.
        return _redirect(redirect_uri, {"error": "access_denied", "error_reason": "user_denied",
                                        "error_description": "The user denied your request.", "state": state})
    account = accounts.filter(ig_id=params.get("account", "")).first() or accounts.first()
    code = AuthCode.objects.create(code=f"AQig{secrets.token_urlsafe(48)}", platform="instagram", client_id=client_id,
                                   redirect_uri=redirect_uri, scopes=scopes, instagram=account)
    # Instagram appends "#_" to the redirect, which is not part of the code; browsers keep fragments client-side.
    return _redirect(redirect_uri, {"code": code.code, "state": state})


def _oauth_error(message: str) -> JsonResponse:
    return JsonResponse({"error_type": "OAuthException", "code": 400, "error_message": message}, status=400)


@csrf_exempt
@require_POST
def access_token(request: HttpRequest) -> JsonResponse:
    """api.instagram.com/oauth/access_token: the code for a 1 h token, the user id and the permissions."""
    p = request.POST
    if p.get("client_id") != settings.INSTAGRAM_APP_ID or p.get("client_secret") != settings.INSTAGRAM_APP_SECRET:
        return _oauth_error("Invalid platform app")
    if p.get("grant_type") != "authorization_code":
        return _oauth_error("Invalid grant_type")
    code = AuthCode.objects.filter(code=p.get("code", ""), platform="instagram").first()
    if code is None or code.used_at or clock.now() - code.created_at > CODE_LIFETIME:
        return _oauth_error("This authorization code has been used or has expired")
    if p.get("redirect_uri") != code.redirect_uri:
        return _oauth_error("Error validating verification code. Please make sure your redirect_uri is identical to "
                            "the one you used in the OAuth dialog request")
    AuthCode.objects.filter(pk=code.pk).update(used_at=clock.now())
    token = Token.objects.create(token=new_token("IGAAsbxS"), kind=Token.Kind.INSTAGRAM_SHORT, instagram=code.instagram,
                                 scopes=code.scopes, expires_at=clock.now() + SHORT_LIVED)
    return JsonResponse({"data": [{"access_token": token.token, "user_id": code.instagram.ig_id,
                                   "permissions": ",".join(code.scopes)}]})


def _valid(raw: str, kind: str) -> Token:
    token = Token.objects.filter(token=raw, kind=kind).select_related("instagram").first()
    if token is None:
        raise _Refused(answers.graph_error(190, "Invalid OAuth access token - Cannot parse access token"))
    if not token.is_valid():
        raise _Refused(answers.graph_error(190, "Error validating access token: Session has expired.", subcode=463))
    return token


class _Refused(Exception):
    def __init__(self, response: JsonResponse) -> None:
        self.response = response


def _long_lived(token: Token) -> JsonResponse:
    fresh = Token.objects.create(token=new_token("IGAAsbxL"), kind=Token.Kind.INSTAGRAM_LONG, instagram=token.instagram,
                                 scopes=token.scopes, expires_at=clock.now() + timedelta(seconds=LONG_LIVED))
    return JsonResponse({"access_token": fresh.token, "token_type": "bearer", "expires_in": LONG_LIVED})


@require_GET
def exchange_token(request: HttpRequest) -> JsonResponse:
    """graph.instagram.com/access_token?grant_type=ig_exchange_token: the 1 h token for a 60-day one."""
    if request.GET.get("grant_type") != "ig_exchange_token":
        return answers.graph_error(100, "Unsupported grant_type")
    if request.GET.get("client_secret") != settings.INSTAGRAM_APP_SECRET:
        return answers.graph_error(101, "Error validating client secret.")
    try:
        return _long_lived(_valid(request.GET.get("access_token", ""), Token.Kind.INSTAGRAM_SHORT))
    except _Refused as refused:
        return refused.response


@require_GET
def refresh_token(request: HttpRequest) -> JsonResponse:
    """graph.instagram.com/refresh_access_token: a new 60 days for a valid long-lived token at least 24 h old."""
    if request.GET.get("grant_type") != "ig_refresh_token":
        return answers.graph_error(100, "Unsupported grant_type")
    try:
        token = _valid(request.GET.get("access_token", ""), Token.Kind.INSTAGRAM_LONG)
    except _Refused as refused:
        return refused.response
    if clock.now() - token.issued_at < MIN_REFRESH_AGE:
        return answers.graph_error(100, "The access token must be at least 24 hours old to be refreshed.")
    return _long_lived(token)


@require_GET
def me(request: HttpRequest, version: str) -> JsonResponse:
    """graph.instagram.com/{v}/me: the professional account behind an Instagram user token."""
    try:
        token = _valid(request.GET.get("access_token", ""), Token.Kind.INSTAGRAM_LONG)
    except _Refused as refused:
        return refused.response
    account = token.instagram
    values = {"user_id": account.ig_id, "username": account.username, "name": account.name,
              "account_type": "BUSINESS", "followers_count": account.base_followers,
              "profile_picture_url": f"https://picsum.photos/seed/{account.username}/320",
              "id": str(90_000_000_000_000 + int(account.ig_id[-6:]))}  # app-scoped, unlike user_id
    fields = [f for f in request.GET.get("fields", "id").split(",") if f in values]
    return JsonResponse({name: values[name] for name in dict.fromkeys([*fields, "id"])})
