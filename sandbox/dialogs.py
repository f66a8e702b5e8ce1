"""The consent dialogs: Facebook's /{version}/dialog/oauth and TikTok's /v2/auth/authorize/.

They need no login of their own (the tester is the sandbox's one test user); Approve binds the new
code to the Pages or creator ticked in the form and redirects to redirect_uri with code and state,
Cancel redirects with the platforms' denial parameters, so the real callback code runs either way.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .models import AuthCode, Page, TikTokCreator
from .seed import CREATOR_OPEN_ID, ensure_world


def _redirect(redirect_uri: str, query: dict) -> HttpResponseRedirect:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(query)}")


def _problem(request: HttpRequest, title: str, detail: str) -> HttpResponse:
    return render(request, "sandbox/dialog_error.html", {"title": title, "detail": detail}, status=400)


def _valid_redirect(uri: str) -> bool:
    return urlsplit(uri).scheme in ("http", "https") and bool(urlsplit(uri).netloc)


@require_http_methods(["GET", "POST"])
def facebook_dialog(request: HttpRequest, version: str) -> HttpResponse:
    params = request.GET if request.method == "GET" else request.POST
    client_id, redirect_uri, state = params.get("client_id", ""), params.get("redirect_uri", ""), params.get("state", "")
    if client_id != settings.FACEBOOK_APP_ID:
        return _problem(request, "Invalid App ID", "The provided app ID does not look like a valid app ID.")
    if not _valid_redirect(redirect_uri):
        return _problem(request, "URL blocked", "This redirect failed because the redirect URI is not valid.")
    scopes = [s for s in params.get("scope", "").split(",") if s]
    user = ensure_world()
    if request.method == "GET":
        pages = Page.objects.filter(owner=user).select_related("instagram").order_by("page_id")
        return render(request, "sandbox/facebook_dialog.html", {
            "pages": pages, "scopes": scopes, "client_id": client_id, "redirect_uri": redirect_uri, "state": state,
            "scope": params.get("scope", ""), "version": version, "host": urlsplit(redirect_uri).netloc,
        })
    if params.get("action") != "approve":
        return _redirect(redirect_uri, {"error": "access_denied", "error_code": "200",
                                        "error_description": "Permissions error", "error_reason": "user_denied",
                                        "state": state})
    pages = list(Page.objects.filter(owner=user, page_id__in=params.getlist("pages")))
    code = AuthCode.objects.create(code=f"AQsbx{secrets.token_urlsafe(48)}", platform="meta", client_id=client_id,
                                   redirect_uri=redirect_uri, scopes=scopes, fb_user=user)
    code.pages.set(pages)
    return _redirect(redirect_uri, {"code": code.code, "state": state})


@require_http_methods(["GET", "POST"])
def tiktok_dialog(request: HttpRequest) -> HttpResponse:
    params = request.GET if request.method == "GET" else request.POST
    client_key, redirect_uri, state = params.get("client_key", ""), params.get("redirect_uri", ""), params.get("state", "")
    if client_key != settings.TIKTOK_CLIENT_KEY:
        return _problem(request, "Something went wrong", "client_key is invalid (error code: 10003).")
    if not _valid_redirect(redirect_uri):
        return _problem(request, "Something went wrong", "redirect_uri is invalid (error code: 10006).")
    scopes = [s for s in params.get("scope", "").split(",") if s]
    ensure_world()
    creator = TikTokCreator.objects.get(open_id=CREATOR_OPEN_ID)
    if request.method == "GET":
        return render(request, "sandbox/tiktok_dialog.html", {
            "creator": creator, "scopes": scopes, "client_key": client_key, "redirect_uri": redirect_uri,
            "state": state, "scope": params.get("scope", ""), "host": urlsplit(redirect_uri).netloc,
        })
    if params.get("action") != "approve":
        return _redirect(redirect_uri, {"error": "access_denied",
                                        "error_description": "The user denied the authorization request.",
                                        "state": state})
    code = AuthCode.objects.create(code=f"sbx{secrets.token_urlsafe(48)}*0!", platform="tiktok", client_id=client_key,
                                   redirect_uri=redirect_uri, scopes=scopes, creator=creator)
    return _redirect(redirect_uri, {"code": code.code, "scopes": ",".join(scopes), "state": state})
