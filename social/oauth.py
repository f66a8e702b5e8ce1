"""Connecting accounts: OAuth state, authorize URLs and the callbacks' work for each platform.

Views stay thin: they call `build_authorization_url()` and `complete_oauth()`; the latter never
raises, it returns a `ConnectResult` the view turns into a redirect to the frontend.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import traceback
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from unipulse.errors import ApiError
from unipulse.logging_filters import redact
from unipulse.platform_errors import PlatformError
from workspaces.models import Membership, Role
from workspaces.services import record

from .clients import instagram_login, meta, tiktok
from .events import account_event
from .models import INSTAGRAM_LOGIN_FLOW, AccountStatus, LoginPath, OAuthState, Platform, SocialAccount
from .services import join_reasons, subscribe_page_webhooks
from .signals import instagram_login_connected

logger = logging.getLogger(__name__)


# What each feature needs, per kind of account (Ref: ../shared/reference/platform-apis.md,
# "Permissions used by this product"). A missing scope is named in the status reason with the
# feature it stops; the account still connects. Only publishing's scopes also block a post before
# it is queued (publishing/services/validation.py reads `scopes` itself, not this reason).
FEATURE_SCOPES: dict[str, dict[str, list[str]]] = {
    Platform.FACEBOOK: {
        "listing Pages": ["pages_show_list"],
        "publishing": ["pages_manage_posts"],
        "reading posts and comments": ["pages_read_engagement"],
        "webhooks": ["pages_manage_metadata"],
        # POST /{comment-id}/comments and is_hidden (conversations/platforms/facebook.py)
        "comment replies and hiding": ["pages_manage_engagement"],
        "inbox DMs": ["pages_messaging"],
        "analytics": ["read_insights"],
    },
    Platform.INSTAGRAM: {
        "listing accounts": ["pages_show_list", "instagram_basic"],
        "publishing": ["instagram_content_publish"],
        "comments": ["instagram_manage_comments"],
        "inbox DMs": ["instagram_manage_messages"],
        "analytics": ["instagram_manage_insights"],
    },
    # Instagram Login path: Instagram's own business scopes (no Page, no Facebook permission).
    INSTAGRAM_LOGIN_FLOW: {
        "the profile": ["instagram_business_basic"],
        "publishing": ["instagram_business_content_publish"],
        "comments": ["instagram_business_manage_comments"],
        "inbox DMs": ["instagram_business_manage_messages"],
        "analytics": ["instagram_business_manage_insights"],
    },
    Platform.TIKTOK: {
        "the profile": ["user.info.basic"],
        "publishing": ["video.publish"],
        "post metrics": ["video.list"],
        "follower counts": ["user.info.stats"],
        "the username": ["user.info.profile"],
    },
}
# Page tasks a connected Page must allow: publishing (CREATE_CONTENT) and comments (MODERATE).
REQUIRED_PAGE_TASKS = ("CREATE_CONTENT", "MODERATE")
# What create_state() makes (secrets.token_urlsafe(32): 43 URL-safe characters), with room to spare.
STATE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")


# Redirect error codes besides OAuthError's: the callback was refused by our inbound rate limit,
# or something unexpected failed on our side (logged with its traceback, nothing written).
RATE_LIMITED = "rate_limited"
CONNECT_FAILED = "connect_failed"
NOT_ALLOWED = "not_allowed"  # the member may no longer connect accounts in that workspace
NOT_CONFIGURED = "not_configured"  # the flow's app credentials are not set on this server


class OAuthError(Exception):
    """A callback that cannot connect anything; `code` is what the frontend is told."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class ConnectResult:
    platform: str
    account_ids: list[int] = field(default_factory=list)
    error: str = ""

    def redirect_url(self) -> str:
        """The frontend URL carrying the outcome: ids and codes only, never a token or a message."""
        if self.error:
            query = {"error": self.error, "platform": self.platform}
        else:
            query = {"result": "connected", "platform": self.platform,
                     "accounts": ",".join(str(i) for i in self.account_ids)}
        return f"{settings.FRONTEND_URL}/?{urlencode(query)}"


def callback_url(platform: str) -> str:
    return {
        Platform.FACEBOOK: settings.FACEBOOK_CALLBACK_URL,
        Platform.INSTAGRAM: settings.INSTAGRAM_CALLBACK_URL,
        Platform.TIKTOK: settings.TIKTOK_CALLBACK_URL,
        INSTAGRAM_LOGIN_FLOW: settings.INSTAGRAM_LOGIN_CALLBACK_URL,
    }[platform]


# ---- state -------------------------------------------------------------------------------------

def create_state(membership, platform: str) -> str:
    """A fresh random state bound to a member, their workspace and `platform`; expired ones are swept on the way."""
    OAuthState.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    state = secrets.token_urlsafe(32)
    OAuthState.objects.create(state=state, user=membership.user, workspace=membership.workspace, platform=platform)
    return state


def consume_state(state: str, platform: str, request_user=None):
    """Burn a state and return it (its user and workspace), or raise OAuthError('invalid_state').

    Single-use even under a race: the conditional UPDATE lets exactly one caller win. A callback
    that arrives with a signed-in user must be that user (a state from someone else is refused);
    one without a session (a token-holding frontend) is bound by the state alone. A refused callback
    (another user, another platform's path, a malformed state) leaves the state unused, so the
    rightful user's own callback still works.
    """
    if not STATE_PATTERN.fullmatch(state or ""):  # also keeps NUL and surrogates away from the database
        raise OAuthError("invalid_state")
    row = OAuthState.objects.filter(state=state).select_related("user", "workspace").first()
    if row is None or row.platform != platform:
        raise OAuthError("invalid_state")
    if request_user is not None and request_user.is_authenticated and request_user.pk != row.user_id:
        raise OAuthError("invalid_state")
    if not Membership.objects.filter(user_id=row.user_id, workspace_id=row.workspace_id,
                                     role__in=[Role.OWNER, Role.ADMIN]).exists():
        raise OAuthError(NOT_ALLOWED)  # removed from the workspace, or demoted, since the connect started
    fresh_after = timezone.now() - timedelta(seconds=settings.OAUTH_STATE_TTL_SECONDS)
    won = OAuthState.objects.filter(pk=row.pk, used_at__isnull=True, created_at__gte=fresh_after).update(
        used_at=timezone.now()
    )
    if not won:
        raise OAuthError("invalid_state")
    return row


# ---- authorize URLs ----------------------------------------------------------------------------

def build_authorization_url(membership, platform: str) -> str:
    """The platform's consent-dialog URL with a new state for this member's workspace.

    Raises ApiError 503 `instagram_login_not_configured` for the Instagram Login flow without its app credentials.
    """
    if platform == INSTAGRAM_LOGIN_FLOW:
        return _instagram_login_url(membership)
    state = create_state(membership, platform)
    if platform == Platform.TIKTOK:
        # Web Login Kit: no PKCE (TikTok requires it only for desktop/mobile apps).
        query = {"client_key": settings.TIKTOK_CLIENT_KEY, "response_type": "code",
                 "scope": ",".join(settings.TIKTOK_OAUTH_SCOPES), "redirect_uri": callback_url(platform),
                 "state": state}
        return f"{settings.TIKTOK_AUTH_URL}/v2/auth/authorize/?{urlencode(query)}"
    scopes = settings.FACEBOOK_OAUTH_SCOPES if platform == Platform.FACEBOOK else settings.INSTAGRAM_OAUTH_SCOPES
    query = {"client_id": settings.FACEBOOK_APP_ID, "redirect_uri": callback_url(platform), "state": state,
             "response_type": "code", "scope": ",".join(scopes),
             # re-ask permissions the user declined last time instead of silently skipping them
             "auth_type": "rerequest"}
    return f"{settings.META_OAUTH_DIALOG_URL}/{settings.META_GRAPH_VERSION}/dialog/oauth?{urlencode(query)}"


def _instagram_login_url(membership) -> str:
    if not instagram_login.is_configured():
        raise ApiError("instagram_login_not_configured",
                       "Instagram Login is not set up on this server: set INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET.",
                       503)
    # Ref: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login#step-1--get-authorization
    query = {"client_id": settings.INSTAGRAM_APP_ID, "redirect_uri": callback_url(INSTAGRAM_LOGIN_FLOW),
             "response_type": "code", "scope": ",".join(settings.INSTAGRAM_LOGIN_SCOPES),
             "state": create_state(membership, INSTAGRAM_LOGIN_FLOW)}
    return f"{settings.INSTAGRAM_OAUTH_DIALOG_URL}/oauth/authorize?{urlencode(query)}"


# ---- callbacks ---------------------------------------------------------------------------------

def complete_oauth(platform: str, params, request_user=None) -> ConnectResult:
    """Finish a consent round-trip. Never raises; nothing is created or changed on any error."""
    try:
        if params.get("error"):
            # Burn the state so it cannot be replayed, but report the denial either way.
            with contextlib.suppress(OAuthError):
                consume_state(params.get("state", ""), platform, request_user)
            raise OAuthError("access_denied")
        origin = consume_state(params.get("state", ""), platform, request_user)
        code = params.get("code", "")
        if not code:
            raise OAuthError("exchange_failed")
        if platform == Platform.TIKTOK:
            ids = connect_tiktok(origin, code)
        elif platform == INSTAGRAM_LOGIN_FLOW:
            ids = connect_instagram_login(origin, code)
        else:
            ids = connect_meta(origin, platform, code)
        _record_connected(origin, ids)
        return ConnectResult(platform=platform, account_ids=ids)
    except OAuthError as error:
        logger.info("OAuth callback for %s ended with %s", platform, error.code)
        return ConnectResult(platform=platform, error=error.code)
    except PlatformError as error:
        logger.warning("OAuth callback for %s failed: %s %s trace=%s", platform, type(error).__name__,
                       error.error_code, error.trace_id)
        return ConnectResult(platform=platform, error="exchange_failed")
    except (KeyError, TypeError, ValueError, IntegrityError) as error:
        # A malformed platform answer (or a parallel connect of the same account): the frontend gets an error code, never a stack trace. Only
        # the exception type is logged, since its text could quote the answer.
        logger.error("OAuth callback for %s got an unreadable answer (%s)", platform, type(error).__name__)
        return ConnectResult(platform=platform, error="exchange_failed")
    except Exception as error:  # noqa: BLE001 - Redis or database down, a bug: still a redirect, never a 500
        # The account writes are one transaction, so nothing of this connect was kept.
        log_unexpected(f"OAuth callback for {platform}", error)
        return ConnectResult(platform=platform, error=CONNECT_FAILED)


def _record_connected(origin: OAuthState, account_ids: list[int]) -> None:
    for account in SocialAccount.objects.filter(pk__in=account_ids).defer("access_token", "refresh_token"):
        record(origin.workspace_id, origin.user, "account.connected", account, f"Connected {account}.")


def log_unexpected(what: str, error: BaseException) -> None:
    """Log an unexpected failure with its traceback, credentials scrubbed.

    The traceback goes into the message itself (not exc_info) so the redacting filter sees it.
    """
    trace = "".join(traceback.format_exception(error))
    logger.error("%s failed unexpectedly: %s", what, redact(trace))


def needed_scopes(platform: str) -> list[str]:
    """Every scope some feature of this kind of account needs (FEATURE_SCOPES), in order, once each."""
    return list(dict.fromkeys(scope for scopes in FEATURE_SCOPES[platform].values() for scope in scopes))


def missing_scopes_reason(platform: str, granted: list[str]) -> str:
    """'Missing permission: read_insights (analytics), ... Reconnect and allow it.', or ''."""
    missing = {}
    for feature, scopes in FEATURE_SCOPES[platform].items():
        for scope in scopes:
            if scope not in granted:
                missing.setdefault(scope, []).append(feature)
    if not missing:
        return ""
    named = ", ".join(f"{scope} ({', '.join(features)})" for scope, features in missing.items())
    return f"Missing permission: {named}. Reconnect and allow it."


def connect_meta(origin: OAuthState, platform: str, code: str) -> list[int]:
    """Exchange the code, then upsert every granted Page and the Instagram account behind each."""
    short = meta.exchange_code(code, callback_url(platform))
    grant = meta.exchange_long_lived_token(short.access_token)
    me = meta.get_me(grant.access_token)
    granted = meta.get_granted_permissions(grant.access_token, me.id)
    if "pages_show_list" not in granted:
        raise OAuthError("missing_permissions")
    pages = meta.list_pages(grant.access_token, me.id)
    if not pages:
        raise OAuthError("missing_permissions")
    # What /me/accounts returns as a Page's access_token is its Page token; the one wrong thing that
    # could end up stored for a Page is a user token, which costs nothing to rule out (see _page_problems).
    user_tokens = {short.access_token, grant.access_token}
    pages = [replace(p, access_token="") if p.access_token in user_tokens else p for p in pages]
    try:
        info = meta.debug_token(grant.access_token)
    except PlatformError:  # expiry and per-Page grants are nice to know, not worth failing a connect for
        info = None
    data_access_expires_at = info.data_access_expires_at if info else None
    targets = info.granular_scopes if info else {}

    with transaction.atomic():
        accounts = []
        for page in pages:
            page_account = _upsert_page(origin, me.id, page, _granted_for(granted, targets, page.id),
                                        data_access_expires_at)
            accounts.append(page_account)
            if page.instagram:
                accounts.append(_upsert_instagram(origin, me.id, page, page_account,
                                                  _granted_for(granted, targets, page.id, page.instagram.id),
                                                  data_access_expires_at))
    for account in accounts:
        if account.platform == Platform.FACEBOOK and account.access_token:
            subscribe_page_webhooks(account)
    return [a.pk for a in accounts]


def _granted_for(granted: list[str], targets: dict[str, list[str]], *object_ids: str) -> list[str]:
    """Scopes granted for one Page/IG account: Meta's dialog lets a user grant a permission for
    some Pages only (debug_token's granular_scopes), which would leave the others failing every post.
    Page-level scopes of an Instagram account target its Page, Instagram ones the IG id."""
    return [s for s in granted if s not in targets or any(i in targets[s] for i in object_ids)]


def _page_problems(page: meta.PageGrant) -> list[str]:
    """Why a Page's token cannot publish or moderate: no Page token, or tasks short of it.

    Presence and tasks are checked here, not the token type through debug_token: Meta puts a Page
    token in /me/accounts' access_token only for a user with a role on the Page (and we refuse the
    user token above), while debug_token would cost one app-token call per Page on every connect
    (50 Pages, 50 calls on the app's shared rate limit, and seconds more for the waiting browser).
    A token that stops working later is caught by the daily token check and by Graph 190.
    """
    if not page.access_token:
        return ["Meta returned no Page token for this Page; reconnect and tick it in the Page picker."]
    if "MANAGE" in page.tasks:
        return []
    lacking = [task for task in REQUIRED_PAGE_TASKS if task not in page.tasks]
    if lacking:
        return [f"Your role on this Page does not allow {', '.join(lacking)}; ask a Page admin for full access."]
    return []


def _upsert(origin: OAuthState, platform: str, external_id: str, values: dict, refresh_token: str = "") -> SocialAccount:
    """Create or update one account of the state's workspace; a reconnect never duplicates nor empties a
    stored refresh token.

    A reconnect ends `needs_reauth` (the token is new) but keeps `blocked_until`: a spam or posting
    limit is about the account, and a fresh token does not lift it.
    """
    account = SocialAccount.objects.select_for_update().filter(
        workspace_id=origin.workspace_id, platform=platform, external_id=external_id
    ).first() or SocialAccount(workspace_id=origin.workspace_id, platform=platform, external_id=external_id)
    account.connected_by_id = origin.user_id
    for name, value in values.items():
        setattr(account, name, value)
    if refresh_token:
        account.refresh_token = refresh_token
    # Without a token nothing can work: say "reconnect" up front instead of failing each job.
    account.status = AccountStatus.ACTIVE if account.access_token else AccountStatus.NEEDS_REAUTH
    account.save()
    account_event(account, "account.connected")  # inside the connect's transaction, like the row
    return account


def _upsert_page(origin: OAuthState, fb_user_id, page, granted, data_access_expires_at) -> SocialAccount:
    problems = [missing_scopes_reason(Platform.FACEBOOK, granted), *_page_problems(page)]
    return _upsert(origin, Platform.FACEBOOK, page.id, {
        "platform_user_id": fb_user_id, "name": page.name, "username": page.username,
        "avatar_url": page.picture_url, "scopes": granted, "access_token": page.access_token,
        # A Page token derived from a long-lived user token has no expiry date.
        "token_expires_at": None, "data_access_expires_at": data_access_expires_at,
        "status_reason": join_reasons(problems),
    })


def _upsert_instagram(origin: OAuthState, fb_user_id, page, page_account, granted, data_access_expires_at) -> SocialAccount:
    ig = page.instagram
    problems = [missing_scopes_reason(Platform.INSTAGRAM, granted), *_page_problems(page)]
    return _upsert(origin, Platform.INSTAGRAM, ig.id, {
        "platform_user_id": fb_user_id, "name": ig.name, "username": ig.username, "avatar_url": ig.picture_url,
        "scopes": granted, "parent": page_account, "login_path": LoginPath.FACEBOOK,
        # Facebook-Login path: Instagram calls are made with the linked Page's token.
        "access_token": page.access_token, "token_expires_at": None,
        "data_access_expires_at": data_access_expires_at, "status_reason": join_reasons(problems),
    })


def connect_instagram_login(origin: OAuthState, code: str) -> list[int]:
    """Code -> short-lived token -> 60-day token -> /me; upsert the one professional account.

    The row is keyed by the Instagram account id, the same id the Facebook-Login path stores, so an
    account connected both ways in one workspace stays one row: this connect switches it to its own
    token and graph.instagram.com (no Page parent), a later Facebook connect switches it back.
    """
    if not instagram_login.is_configured():
        raise OAuthError(NOT_CONFIGURED)
    short = instagram_login.exchange_code(code, callback_url(INSTAGRAM_LOGIN_FLOW))
    grant = instagram_login.exchange_long_lived_token(short.access_token, short.user_id)
    me = instagram_login.get_me(grant.access_token, short.user_id)
    if not me.user_id:
        raise OAuthError("exchange_failed")
    with transaction.atomic():
        account = _upsert(origin, Platform.INSTAGRAM, me.user_id, {
            "platform_user_id": me.user_id, "name": me.name, "username": me.username,
            "avatar_url": me.picture_url[:2048], "scopes": short.permissions, "parent": None,
            "login_path": LoginPath.INSTAGRAM, "access_token": grant.access_token,
            "token_expires_at": grant.expires_at, "data_access_expires_at": None,
            "status_reason": missing_scopes_reason(INSTAGRAM_LOGIN_FLOW, short.permissions),
            # Subscribed again in the background after every connect (a path switch leaves the Page's stamp).
            "webhook_subscribed_at": None,
        })
        transaction.on_commit(lambda: instagram_login_connected.send(sender=SocialAccount, account_id=account.pk))
    logger.info("Connected Instagram account %s through Instagram Login (%s)", account.pk, me.account_type or "?")
    return [account.pk]


def connect_tiktok(origin: OAuthState, code: str) -> list[int]:
    """Exchange the code, store both tokens with the lifetimes TikTok sent, fetch the profile."""
    grant = tiktok.exchange_code(code, callback_url(Platform.TIKTOK))
    if not grant.open_id:
        raise OAuthError("exchange_failed")
    with transaction.atomic():
        account = _upsert(origin, Platform.TIKTOK, grant.open_id, {
            "platform_user_id": grant.open_id, "scopes": grant.scopes, "access_token": grant.access_token,
            "token_expires_at": grant.expires_at,
            "status_reason": missing_scopes_reason(Platform.TIKTOK, grant.scopes),
            **({"refresh_token_expires_at": grant.refresh_expires_at} if grant.refresh_token else {}),
        }, refresh_token=grant.refresh_token)
    try:
        profile = tiktok.get_user_info(account, tiktok.profile_fields(grant.scopes))
    except Exception as error:  # noqa: BLE001 - the account is committed and works without its profile
        logger.warning("TikTok profile fetch failed for account %s: %s", account.pk,
                       getattr(error, "error_code", type(error).__name__))
        return [account.pk]
    account.name = profile.display_name
    account.username = profile.username
    account.avatar_url = profile.avatar_url[:2048]
    account.save(update_fields=["name", "username", "avatar_url", "updated_at"])
    return [account.pk]
