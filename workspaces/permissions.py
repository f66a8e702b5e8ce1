"""The one permission table: the role each API route needs, by URL name and method.

Reads need `viewer`. A route missing from the table is refused (fail closed); a test checks that
every /api/v1/ route is listed. docs/api-reference.md renders this table.
"""

from __future__ import annotations

import re

from rest_framework.permissions import BasePermission

from unipulse.errors import ApiError

from .access import current_membership
from .models import Role

PUBLIC = "public"      # no sign-in needed (its own checks: a signature, a single-use state)
SIGNED_IN = "signed-in"  # any signed-in user, outside any workspace
VIEWER, EDITOR, ADMIN, OWNER = Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER

PERMISSIONS: dict[str, dict[str, str]] = {
    # outside workspaces
    "schema": {"GET": PUBLIC}, "swagger-ui": {"GET": PUBLIC}, "api-token": {"POST": PUBLIC},
    "oauth-callback": {"GET": PUBLIC}, "oauth-callback-instagram-login": {"GET": PUBLIC},
    "workspace-list": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "invitation-accept": {"POST": SIGNED_IN},
    # the workspace itself
    "workspace-detail": {"GET": VIEWER, "PATCH": ADMIN, "DELETE": OWNER},
    "workspace-leave": {"POST": VIEWER},
    "workspace-members": {"GET": VIEWER},
    "workspace-member-detail": {"GET": VIEWER, "PATCH": ADMIN, "DELETE": ADMIN},
    "workspace-invitations": {"GET": ADMIN, "POST": ADMIN},
    "workspace-invitation-detail": {"GET": ADMIN, "DELETE": ADMIN},
    "workspace-audit": {"GET": ADMIN},
    # accounts
    "oauth-start": {"GET": ADMIN}, "oauth-start-instagram-login": {"GET": ADMIN},
    "account-list": {"GET": VIEWER},
    "account-detail": {"GET": VIEWER, "DELETE": ADMIN},
    "account-refresh": {"POST": ADMIN},
    "account-sync": {"POST": EDITOR},
    "account-publishing-options": {"GET": VIEWER},
    # posting queues: the schedule is the account's settings (admin); filling and ordering it is writing posts
    "account-schedule": {"GET": VIEWER, "PUT": ADMIN}, "account-schedule-from-best-times": {"POST": ADMIN},
    "account-queue": {"GET": VIEWER},
    "account-queue-reorder": {"POST": EDITOR}, "account-queue-shuffle": {"POST": EDITOR},
    # publishing
    "media-upload": {"POST": EDITOR},
    "post-list": {"GET": VIEWER, "POST": EDITOR},
    "post-import": {"POST": EDITOR},  # the same role as one post: an editor's imported posts wait for approval
    "post-detail": {"GET": VIEWER, "PATCH": EDITOR, "DELETE": EDITOR},
    "post-retry": {"POST": EDITOR}, "post-retry-noslash": {"POST": EDITOR},
    "post-approve": {"POST": ADMIN}, "post-reject": {"POST": ADMIN},
    "calendar": {"GET": VIEWER},
    # analytics
    "analytics-account": {"GET": VIEWER}, "analytics-account-best-times": {"GET": VIEWER}, "analytics-post": {"GET": VIEWER},
    "analytics-tracked-posts": {"GET": VIEWER}, "analytics-tracked-post": {"GET": VIEWER},
    "analytics-summary": {"GET": VIEWER},
    # events out: endpoints hold signing secrets and send the workspace's data out (admin); the feed is a read
    "webhook-endpoint-list": {"GET": ADMIN, "POST": ADMIN},
    "webhook-endpoint-detail": {"GET": ADMIN, "PATCH": ADMIN, "DELETE": ADMIN},
    "webhook-endpoint-roll": {"POST": ADMIN}, "webhook-endpoint-ping": {"POST": ADMIN},
    "webhook-delivery-list": {"GET": ADMIN}, "webhook-delivery-redeliver": {"POST": ADMIN},
    "event-feed": {"GET": VIEWER},
    # inbox
    "conversation-list": {"GET": VIEWER}, "conversation-tiktok-videos": {"GET": VIEWER},
    "conversation-detail": {"GET": VIEWER, "PATCH": EDITOR},
    "conversation-messages": {"GET": VIEWER},
    "conversation-reply": {"POST": EDITOR}, "conversation-read": {"POST": EDITOR},
    "message-hide": {"POST": EDITOR}, "message-unhide": {"POST": EDITOR},
}
READ_ALIASES = {"HEAD": "GET", "OPTIONS": "GET"}


def rule_for(url_name: str | None, method: str) -> str | None:
    """The role (or PUBLIC / SIGNED_IN) the route needs for `method`; None: not allowed to anyone."""
    methods = PERMISSIONS.get(url_name or "", {})
    return methods.get(method) or methods.get(READ_ALIASES.get(method, ""))


class WorkspaceRole(BasePermission):
    """Resolves the request's workspace (404 for a non-member) and checks the role the table asks for (403)."""

    def has_permission(self, request, view) -> bool:
        match = getattr(request, "resolver_match", None)
        rule = rule_for(match.url_name if match else None, request.method)
        if rule == PUBLIC:
            return True
        if not request.user or not request.user.is_authenticated:
            return False
        if rule == SIGNED_IN:
            return True
        if rule is None:
            raise ApiError("method_not_allowed", f"{request.method} is not allowed here.", 405)
        membership = current_membership(request, view.kwargs.get("workspace_id"))
        if not membership.allows(rule):
            raise ApiError("role_required", f"This needs the {rule} role or higher in this workspace; "
                           f"you are {membership.role}.", 403)
        return True


def permission_table_markdown() -> str:
    """The table above as docs/api-reference.md shows it (tests/workspaces/test_permission_table.py keeps them equal)."""
    from django.urls import get_resolver
    from django.urls.resolvers import URLResolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p.name

    paths: dict[str, str] = {}
    for route, name in walk(get_resolver().url_patterns):
        if name in PERMISSIONS and name not in paths and route.startswith("api/v1/"):
            clean = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).replace("^", "").replace("$", "").replace("\\", "")
            paths[name] = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", clean).replace("/?", "")
    label = {PUBLIC: "anyone", SIGNED_IN: "any signed-in user"}
    lines = ["| Route | Method | Needs |", "|---|---|---|"]
    for name, methods in PERMISSIONS.items():
        for method, rule in methods.items():
            lines.append(f"| `{paths.get(name, name)}` | {method} | {label.get(rule, rule)} |")
    return "\n".join(lines)
