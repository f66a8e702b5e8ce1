"""The Meta Graph API double: /sandbox/graph/{version}/{path}.

One view parses the call the way Graph does (query string and form body, or a JSON body for the
Send API), checks the token and appsecret_proof, then routes on the path: OAuth endpoints, `me`,
nodes by id and their edges. Errors use Graph's envelope; answers carry its usage headers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import answers, clock, failures, publishing
from .fields import FieldSyntaxError
from .models import (
    AuthCode,
    Comment,
    Conversation,
    DirectMessage,
    FacebookUser,
    InstagramAccount,
    MediaContainer,
    Page,
    Post,
    Token,
    new_token,
)
from .nodes import (
    Ctx,
    GraphError,
    comment_list,
    edge_list,
    fields_param,
    insights_body,
    no_such_object,
    render,
)

CODE_LIFETIME = timedelta(minutes=10)
SHORT_LIVED = 5400  # seconds, as Meta's short-lived user tokens (~1.5 h)
LONG_LIVED = 5183944  # seconds (~60 days), the value Meta's docs print
DATA_ACCESS_DAYS = 90


@csrf_exempt
def graph(request: HttpRequest, version: str, path: str = "") -> HttpResponse:
    return _serve(request, version, path, instagram_login=False)


@csrf_exempt
def instagram_graph(request: HttpRequest, version: str, path: str = "") -> HttpResponse:
    """graph.instagram.com for Instagram Login tokens: the same nodes and edges, reached only through the
    token's own Instagram account (no Page, no Facebook user), and no appsecret_proof."""
    return _serve(request, version, path, instagram_login=True)


def _serve(request: HttpRequest, version: str, path: str, *, instagram_login: bool) -> HttpResponse:
    path = path.strip("/")
    failure = failures.intercept("meta", request, path)
    if failure is not None:
        return failure
    ctx = Ctx(params=_params(request), path=path, version=version, files=request.FILES,
              instagram_login=instagram_login)
    try:
        ctx.json = _json_body(request)
        body, object_id, buc_type = route(request.method, path, ctx)
    except GraphError as error:
        return answers.graph_error(error.code, error.message, subcode=error.subcode, status=error.status)
    except FieldSyntaxError as error:
        return answers.graph_error(2500, f"Syntax error \"{error}\"", error_type="OAuthException")
    response = JsonResponse(body, safe=False)
    for name, value in answers.usage_headers(_usage_percent(), object_id=object_id, buc_type=buc_type).items():
        response[name] = value
    return response


def _params(request: HttpRequest) -> dict:
    params = {k: v for k, v in request.GET.items()}
    if request.method in ("POST", "DELETE") and request.content_type != "application/json":
        params.update({k: v for k, v in request.POST.items()})
    return params


def _json_body(request: HttpRequest) -> dict:
    if request.content_type != "application/json" or not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise GraphError(100, "(#100) The request body is not valid JSON") from None
    return body if isinstance(body, dict) else {}


def _usage_percent() -> int:
    # One shared hourly counter: 4800 calls an hour reads as 100 %, well above what a sandbox sees.
    key = f"sandbox:graph-usage:{clock.now():%Y%m%d%H}"
    cache.add(key, 0, 3600)
    try:
        calls = cache.incr(key)
    except ValueError:
        calls = 1
    return min(calls // 48, 99)


# ---- routing ------------------------------------------------------------------------------------

def route(method: str, path: str, ctx: Ctx) -> tuple[object, str, str]:
    """Serve one call; returns (body, object id for the BUC header, BUC type)."""
    parts = path.split("/") if path else []
    if ctx.instagram_login:
        return route_instagram_login(method, parts, ctx)
    if parts == ["oauth", "access_token"] and method == "GET":
        return oauth_access_token(ctx), "", ""
    if parts == ["debug_token"] and method == "GET":
        return debug_token(ctx), "", ""
    if not parts and method == "GET" and ctx.params.get("ids"):
        return multiple_ids(ctx), "", ""
    if not parts:
        raise GraphError(100, "(#100) Missing node id")
    if len(parts) == 2 and parts[1] == "permissions" and method == "DELETE" and _is_app_token(ctx):
        return revoke_permissions(parts[0]), "", ""
    token = authenticate(ctx)
    if parts[0] == "me":
        parts[0] = token.page.page_id if token.kind == Token.Kind.PAGE else token.fb_user.fb_id
    obj = find_object(parts[0], token)
    if obj is None or not can_access(token, obj):
        raise no_such_object(parts[0], method.lower())
    if len(parts) == 1:
        return node(method, obj, ctx), *_buc(obj)
    if len(parts) == 2:
        return edge(method, obj, parts[1], ctx), *_buc(obj)
    raise GraphError(100, f"Unknown path components: /{'/'.join(parts[2:])}", subcode=2500)


def route_instagram_login(method: str, parts: list[str], ctx: Ctx) -> tuple[object, str, str]:
    """graph.instagram.com: `me` or the account's id, its media, containers, comments and DM threads."""
    if not parts and method == "GET" and ctx.params.get("ids"):
        return multiple_ids(ctx), "", ""
    if not parts:
        raise GraphError(100, "(#100) Missing node id")
    token = authenticate(ctx)
    if parts[0] == "me":
        parts[0] = token.instagram.ig_id
    obj = find_object(parts[0], token)
    if obj is None or not can_access(token, obj):
        raise no_such_object(parts[0], method.lower())
    if len(parts) == 1:
        return node(method, obj, ctx), *_buc(obj)
    if len(parts) == 2:
        return edge(method, obj, parts[1], ctx), *_buc(obj)
    raise GraphError(100, f"Unknown path components: /{'/'.join(parts[2:])}", subcode=2500)


def multiple_ids(ctx: Ctx) -> dict:
    """GET /?ids=a,b&fields=...: each node as its own GET would answer it, keyed by id (at most 50)."""
    token = authenticate(ctx)
    ids = list(dict.fromkeys(i.strip() for i in ctx.params["ids"].split(",") if i.strip()))
    if len(ids) > 50:
        raise GraphError(100, "(#100) Too many IDs. Maximum: 50.")
    body = {}
    for object_id in ids:
        obj = find_object(object_id, token)
        if obj is None or not can_access(token, obj):
            raise no_such_object(object_id)
        body[object_id] = render(node_kind(obj), obj, fields_param(ctx), ctx)
    return body


def _buc(obj) -> tuple[str, str]:
    if isinstance(obj, Page):
        return obj.page_id, "pages"
    if isinstance(obj, InstagramAccount):
        return obj.ig_id, "instagram"
    return "", ""


def find_object(object_id: str, token: Token | None = None):
    """The sandbox object with this Graph id, whatever its type, or None.

    A fan's id names one person per Page, as PSIDs are Page-scoped; the sandbox's fans write to every
    Page with the same id, so with a token the thread of a Page that token reaches is the one meant.
    """
    lookups = (
        (Page, "page_id"), (InstagramAccount, "ig_id"), (Post, "post_id"), (Post, "photo_id"),
        (MediaContainer, "container_id"), (Comment, "comment_id"), (Conversation, "thread_id"),
        (DirectMessage, "mid"), (FacebookUser, "fb_id"), (Conversation, "participant_id"),
    )
    for model, field_name in lookups:
        found = model.objects.filter(**{field_name: object_id}).first()
        if model is Conversation and field_name == "participant_id" and token is not None:
            found = next((c for c in model.objects.filter(participant_id=object_id) if can_access(token, c)), found)
        if found is not None:
            if model is Post and field_name == "photo_id":
                found._as_object = "video" if found.media_type == "video" else "photo"
            if model is Conversation and field_name == "participant_id":  # a PSID/IGSID: the User Profile API
                found._as_object = "ig_person" if found.platform == "instagram" else "person"
            return found
    return None


def owning_page(obj) -> Page | None:
    if isinstance(obj, Page):
        return obj
    if isinstance(obj, InstagramAccount):
        return obj.page
    if isinstance(obj, Post):
        return obj.page or (obj.instagram.page if obj.instagram_id else None)
    if isinstance(obj, MediaContainer):
        return obj.instagram.page
    if isinstance(obj, Comment):
        return owning_page(obj.post)
    if isinstance(obj, Conversation):
        return obj.page
    if isinstance(obj, DirectMessage):
        return obj.conversation.page
    return None


def can_access(token: Token, obj) -> bool:
    if token.kind in INSTAGRAM_LOGIN_TOKENS:
        return _instagram_login_reaches(token.instagram, obj)
    if isinstance(obj, FacebookUser):
        return token.fb_user_id == obj.pk
    page = owning_page(obj)
    if page is None:
        return False
    if token.kind == Token.Kind.PAGE:
        return token.page_id == page.pk
    return token.granted_pages.filter(pk=page.pk).exists()


def _instagram_login_reaches(ig: InstagramAccount, obj) -> bool:
    """An Instagram user token reaches its own account's objects only: never a Page or its Messenger threads."""
    if isinstance(obj, (Page, FacebookUser)):
        return False
    if isinstance(obj, Conversation) and obj.platform != "instagram":
        return False
    if isinstance(obj, DirectMessage) and obj.conversation.platform != "instagram":
        return False
    if isinstance(obj, Post) and obj.network != Post.Network.INSTAGRAM:
        return False
    if isinstance(obj, Comment) and obj.post.network != Post.Network.INSTAGRAM:
        return False
    page = owning_page(obj)
    return page is not None and page.pk == ig.page_id


# ---- tokens -------------------------------------------------------------------------------------

INSTAGRAM_LOGIN_TOKENS = (Token.Kind.INSTAGRAM_SHORT, Token.Kind.INSTAGRAM_LONG)


def _is_app_token(ctx: Ctx) -> bool:
    return ctx.params.get("access_token", "") == f"{settings.FACEBOOK_APP_ID}|{settings.FACEBOOK_APP_SECRET}"


def authenticate(ctx: Ctx) -> Token:
    """The user or Page token of this call, checked like Graph (190 with a subcode, appsecret_proof)."""
    raw = ctx.params.get("access_token", "")
    if not raw:
        raise GraphError(104, "An access token is required to request this resource.")
    if ctx.instagram_login:
        return _authenticate_instagram_login(raw, ctx)
    token = Token.objects.filter(token=raw, kind__in=[Token.Kind.USER, Token.Kind.PAGE]).first()
    if token is None:
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
    if token.revoked_at:
        raise GraphError(190, "Error validating access token: The user has not authorized application "
                              f"{settings.FACEBOOK_APP_ID}.", subcode=458)
    if not token.is_valid():
        raise GraphError(190, "Error validating access token: Session has expired.", subcode=463)
    if settings.FACEBOOK_APP_SECRET:
        proof = ctx.params.get("appsecret_proof", "")
        if not proof:
            raise GraphError(100, "API calls from the server require an appsecret_proof argument")
        expected = hmac.new(settings.FACEBOOK_APP_SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(proof, expected):
            raise GraphError(100, "Invalid appsecret_proof provided in the API argument")
    ctx.token = token
    return token


def _authenticate_instagram_login(raw: str, ctx: Ctx) -> Token:
    # graph.instagram.com takes only Instagram user tokens (a Facebook token cannot be parsed there).
    token = Token.objects.filter(token=raw, kind__in=INSTAGRAM_LOGIN_TOKENS).select_related("instagram").first()
    if token is None:
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
    if not token.is_valid():
        raise GraphError(190, "Error validating access token: Session has expired.", subcode=463)
    ctx.token = token
    return token


def issue_user_token(fb_user: FacebookUser, pages, scopes: list[str], lifetime: int) -> Token:
    token = Token.objects.create(token=new_token("EAAsbx"), kind=Token.Kind.USER, fb_user=fb_user, scopes=scopes,
                                 expires_at=clock.now() + timedelta(seconds=lifetime))
    token.granted_pages.set(pages)
    return token


def page_token_for(user_token: Token, page: Page) -> Token:
    """The Page token /me/accounts hands out: from a long-lived user token it never expires."""
    long_lived = user_token.expires_at and user_token.expires_at - user_token.issued_at > timedelta(days=1)
    existing = Token.objects.filter(kind=Token.Kind.PAGE, page=page, fb_user=user_token.fb_user_id,
                                    revoked_at__isnull=True, expires_at__isnull=True).first()
    if long_lived and existing:
        return existing
    return Token.objects.create(
        token=new_token("EAAsbxP"), kind=Token.Kind.PAGE, page=page, fb_user=user_token.fb_user,
        scopes=user_token.scopes, expires_at=None if long_lived else clock.now() + timedelta(hours=1),
    )


def oauth_access_token(ctx: Ctx) -> dict:
    """Code exchange, or fb_exchange_token for a long-lived token. Ref: platform-apis.md §1.2 steps 2-3."""
    params = ctx.params
    if params.get("client_id") != settings.FACEBOOK_APP_ID:
        raise GraphError(101, "Error validating application. Invalid application ID.")
    if params.get("client_secret") != settings.FACEBOOK_APP_SECRET:
        raise GraphError(1, "Error validating client secret.")
    if params.get("grant_type") == "fb_exchange_token":
        old = Token.objects.filter(token=params.get("fb_exchange_token", ""), kind=Token.Kind.USER).first()
        if old is None or not old.is_valid():
            raise GraphError(190, "Error validating access token: Session has expired.", subcode=463)
        token = issue_user_token(old.fb_user, old.granted_pages.all(), old.scopes, LONG_LIVED)
        return {"access_token": token.token, "token_type": "bearer", "expires_in": LONG_LIVED}
    code = AuthCode.objects.filter(code=params.get("code", ""), platform="meta").first()
    if code is None:
        raise GraphError(100, "Invalid verification code format.")
    if code.used_at:
        raise GraphError(100, "This authorization code has been used.", subcode=36009)
    if clock.now() - code.created_at > CODE_LIFETIME:
        raise GraphError(100, "This authorization code has expired.", subcode=36007)
    if params.get("redirect_uri") != code.redirect_uri:
        raise GraphError(100, "Error validating verification code. Please make sure your redirect_uri is identical "
                              "to the one you used in the OAuth dialog request", subcode=36008)
    AuthCode.objects.filter(pk=code.pk).update(used_at=clock.now())
    token = issue_user_token(code.fb_user, code.pages.all(), code.scopes, SHORT_LIVED)
    return {"access_token": token.token, "token_type": "bearer", "expires_in": SHORT_LIVED}


def debug_token(ctx: Ctx) -> dict:
    """Token introspection with the app token. Ref: platform-apis.md §1.2 "Token introspection"."""
    if not _is_app_token(ctx):
        authenticate(ctx)
    token = Token.objects.filter(token=ctx.params.get("input_token", "")).first()
    if token is None or token.kind not in (Token.Kind.USER, Token.Kind.PAGE):
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
    pages = [token.page] if token.kind == Token.Kind.PAGE else list(token.granted_pages.all())
    data = {
        "app_id": settings.FACEBOOK_APP_ID, "type": "PAGE" if token.kind == Token.Kind.PAGE else "USER",
        "application": "UniPulse Sandbox", "is_valid": token.is_valid(),
        "data_access_expires_at": int((token.issued_at + timedelta(days=DATA_ACCESS_DAYS)).timestamp()),
        "expires_at": int(token.expires_at.timestamp()) if token.expires_at else 0,
        # Graph lists public_profile among the scopes, as /me/permissions does.
        "issued_at": int(token.issued_at.timestamp()), "scopes": list(dict.fromkeys([*token.scopes, "public_profile"])),
        "granular_scopes": _granular_scopes(token.scopes, pages), "user_id": token.fb_user.fb_id,
    }
    if token.kind == Token.Kind.PAGE:
        data["profile_id"] = token.page.page_id
    if not data["is_valid"]:
        subcode = 458 if token.revoked_at else 463
        data["error"] = {"code": 190, "message": "Error validating access token", "subcode": subcode}
    return {"data": data}


def _granular_scopes(scopes: list[str], pages: list[Page]) -> list[dict]:
    page_ids = [p.page_id for p in pages]
    ig_ids = [p.instagram.ig_id for p in pages if hasattr(p, "instagram")]
    out = []
    for scope in scopes:
        if scope.startswith("pages_") or scope in ("read_insights", "publish_video"):
            out.append({"scope": scope, "target_ids": page_ids})
        elif scope.startswith("instagram_"):
            out.append({"scope": scope, "target_ids": ig_ids})
    return out


def revoke_permissions(user_id: str) -> dict:
    Token.objects.filter(fb_user__fb_id=user_id, revoked_at__isnull=True).update(revoked_at=clock.now())
    return {"success": True}


# ---- nodes and edges ----------------------------------------------------------------------------

def node_kind(obj) -> str:
    if isinstance(obj, Post):
        if getattr(obj, "_as_object", None):
            return obj._as_object
        return {"facebook": "post", "instagram": "ig_media"}.get(obj.network, "post")
    if isinstance(obj, Comment):
        return "ig_comment" if obj.post.network == Post.Network.INSTAGRAM else "comment"
    if isinstance(obj, Conversation) and getattr(obj, "_as_object", None):
        return obj._as_object
    return {Page: "page", InstagramAccount: "ig_user", MediaContainer: "container", Conversation: "conversation",
            DirectMessage: "message", FacebookUser: "user"}[type(obj)]


def node(method: str, obj, ctx: Ctx):
    if method == "GET":
        return render(node_kind(obj), obj, fields_param(ctx), ctx)
    if method == "POST" and isinstance(obj, Comment):
        return publishing.set_comment_hidden(obj, ctx.params)
    if method == "DELETE" and isinstance(obj, Comment):
        obj.delete()
        return {"success": True}
    raise no_such_object(ctx.path.split("/")[0], method.lower())


def edge(method: str, obj, name: str, ctx: Ctx):
    handler = EDGES.get((type(obj), name, method))
    if handler is None:
        raise GraphError(100, f"(#100) Unsupported {method.lower()} request on edge {name}", subcode=33)
    return handler(obj, ctx)


def me_permissions(user: FacebookUser, ctx: Ctx) -> dict:
    granted = [*ctx.token.scopes, "public_profile"]
    return {"data": [{"permission": scope, "status": "granted"} for scope in dict.fromkeys(granted)]}


def me_accounts(user: FacebookUser, ctx: Ctx) -> dict:
    if ctx.token.kind != Token.Kind.USER:
        raise GraphError(100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)")
    pages = list(ctx.token.granted_pages.order_by("page_id"))
    ctx.page_tokens = {p.page_id: page_token_for(ctx.token, p).token for p in pages}
    children = fields_param(ctx)
    return edge_list(pages, lambda p: render("page", p, children, ctx), limit=ctx.params.get("limit", 25),
                     after=ctx.params.get("after"), ctx=ctx, path=f"{user.fb_id}/accounts")


def page_posts(page: Page, ctx: Ctx) -> dict:
    from .nodes import published_posts

    posts = list(published_posts(page))
    since = ctx.params.get("since")
    if since and str(since).isdigit():
        posts = [p for p in posts if p.created_at.timestamp() >= int(since)]
    children = fields_param(ctx)
    return edge_list(posts, lambda p: render("post", p, children, ctx), limit=ctx.params.get("limit", 25),
                     after=ctx.params.get("after"), ctx=ctx, path=ctx.path)


def ig_media_list(ig: InstagramAccount, ctx: Ctx, stories: bool = False) -> dict:
    media = ig.media.filter(created_at__lte=clock.now())
    media = media.filter(product_type="STORY", created_at__gt=clock.now() - timedelta(hours=24)) if stories \
        else media.exclude(product_type="STORY")
    children = fields_param(ctx)
    return edge_list(list(media), lambda m: render("ig_media", m, children, ctx), limit=ctx.params.get("limit", 25),
                     after=ctx.params.get("after"), ctx=ctx, path=ctx.path)


def subscribed_apps(page: Page, ctx: Ctx) -> dict:
    if not page.subscribed_fields:
        return {"data": []}
    return {"data": [{"category": "Business", "link": settings.PUBLIC_BASE_URL, "name": "UniPulse Sandbox",
                      "id": settings.FACEBOOK_APP_ID, "subscribed_fields": page.subscribed_fields}]}


def subscribe_app(page: Page, ctx: Ctx) -> dict:
    if ctx.token.kind != Token.Kind.PAGE:
        raise GraphError(210, "(#210) This call requires a Page access token.")
    wanted = [f for f in ctx.params.get("subscribed_fields", "").split(",") if f]
    if not wanted:
        raise GraphError(100, "(#100) The parameter subscribed_fields is required")
    page.subscribed_fields = sorted(set(page.subscribed_fields) | set(wanted))
    page.save(update_fields=["subscribed_fields"])
    return {"success": True}


def unsubscribe_app(page: Page, ctx: Ctx) -> dict:
    page.subscribed_fields = []
    page.save(update_fields=["subscribed_fields"])
    return {"success": True}


def ig_subscribed_apps(ig: InstagramAccount, ctx: Ctx) -> dict:
    """GET /{ig-id}/subscribed_apps on graph.instagram.com: the fields this app receives for the account."""
    if not ctx.instagram_login:
        raise GraphError(100, "(#100) Unsupported get request on edge subscribed_apps", subcode=33)
    return {"data": [{"subscribed_fields": ig.subscribed_fields}] if ig.subscribed_fields else []}


def ig_subscribe_app(ig: InstagramAccount, ctx: Ctx) -> dict:
    """POST /{ig-id}/subscribed_apps?subscribed_fields=...: Instagram Login accounts are subscribed one by one."""
    if not ctx.instagram_login:
        raise GraphError(100, "(#100) Unsupported post request on edge subscribed_apps", subcode=33)
    wanted = [f for f in ctx.params.get("subscribed_fields", "").split(",") if f]
    if not wanted:
        raise GraphError(100, "(#100) The parameter subscribed_fields is required")
    unknown = [f for f in wanted if f not in IG_WEBHOOK_FIELDS]
    if unknown:
        raise GraphError(100, f"(#100) Param subscribed_fields[0] must be one of {{{', '.join(IG_WEBHOOK_FIELDS)}}} "
                              f"- got \"{unknown[0]}\"")
    ig.subscribed_fields = sorted(set(ig.subscribed_fields) | set(wanted))
    ig.save(update_fields=["subscribed_fields"])
    return {"success": True}


# Ref: https://developers.facebook.com/docs/instagram-platform/webhooks (fields of the Instagram Login path)
IG_WEBHOOK_FIELDS = ("comments", "live_comments", "mentions", "message_edit", "message_reactions", "messages",
                     "messaging_handover", "messaging_optins", "messaging_postbacks", "messaging_referral",
                     "messaging_seen", "story_insights")


def conversations(page: Page, ctx: Ctx) -> dict:
    platform = ctx.params.get("platform", "instagram" if ctx.instagram_login else "messenger")
    if platform not in ("messenger", "instagram") or (ctx.instagram_login and platform != "instagram"):
        raise GraphError(100, "(#100) platform must be one of {messenger, instagram}")
    threads = list(page.conversations.filter(platform=platform))
    children = fields_param(ctx)
    return edge_list(threads, lambda t: render("conversation", t, children, ctx), limit=ctx.params.get("limit", 25),
                     after=ctx.params.get("after"), ctx=ctx, path=ctx.path)


def post_insights(obj, ctx: Ctx) -> dict:
    return insights_body(obj, [m for m in ctx.params.get("metric", "").split(",") if m], ctx)


def post_comments(post: Post, ctx: Ctx) -> dict:
    return comment_list(post, ctx.params, ctx, top_path=ctx.path)


def comment_replies(comment: Comment, ctx: Ctx) -> dict:
    node_name = "ig_comment" if comment.post.network == Post.Network.INSTAGRAM else "comment"
    children = fields_param(ctx)
    return edge_list(list(comment.replies.all()), lambda c: render(node_name, c, children, ctx),
                     limit=ctx.params.get("limit", 25), after=ctx.params.get("after"), ctx=ctx, path=ctx.path)


def conversation_messages(conversation: Conversation, ctx: Ctx) -> dict:
    children = fields_param(ctx)
    return edge_list(list(conversation.messages.all()), lambda m: render("message", m, children, ctx),
                     limit=ctx.params.get("limit", 25), after=ctx.params.get("after"), ctx=ctx, path=ctx.path)


EDGES = {
    (FacebookUser, "permissions", "GET"): me_permissions,
    (FacebookUser, "accounts", "GET"): me_accounts,
    (Page, "published_posts", "GET"): page_posts,
    (Page, "posts", "GET"): page_posts,
    (Page, "feed", "GET"): page_posts,
    (Page, "feed", "POST"): publishing.publish_feed,
    (Page, "photos", "POST"): publishing.publish_photo,
    (Page, "videos", "POST"): publishing.publish_video,
    (Page, "subscribed_apps", "GET"): subscribed_apps,
    (Page, "subscribed_apps", "POST"): subscribe_app,
    (Page, "subscribed_apps", "DELETE"): unsubscribe_app,
    (Page, "conversations", "GET"): conversations,
    (Page, "messages", "POST"): publishing.send_message,
    (Page, "insights", "GET"): post_insights,
    (Post, "comments", "GET"): post_comments,
    (Post, "comments", "POST"): publishing.add_comment,
    (Post, "insights", "GET"): post_insights,
    (Comment, "comments", "GET"): comment_replies,
    (Comment, "comments", "POST"): publishing.reply_to_comment,
    (Comment, "replies", "GET"): comment_replies,
    (Comment, "replies", "POST"): publishing.reply_to_comment,
    (InstagramAccount, "media", "GET"): ig_media_list,
    (InstagramAccount, "media", "POST"): publishing.create_container,
    (InstagramAccount, "stories", "GET"): lambda ig, ctx: ig_media_list(ig, ctx, stories=True),
    (InstagramAccount, "media_publish", "POST"): publishing.publish_container,
    (InstagramAccount, "content_publishing_limit", "GET"): publishing.content_publishing_limit,
    (InstagramAccount, "insights", "GET"): post_insights,
    (InstagramAccount, "messages", "POST"): publishing.send_message,
    (InstagramAccount, "conversations", "GET"): lambda ig, ctx: conversations(ig.page, ctx),
    (InstagramAccount, "subscribed_apps", "GET"): ig_subscribed_apps,
    (InstagramAccount, "subscribed_apps", "POST"): ig_subscribe_app,
    (Conversation, "messages", "GET"): conversation_messages,
}
