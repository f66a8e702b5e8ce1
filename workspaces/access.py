"""Which workspace a request acts in: resolved once per request, with one query.

Routes under /api/v1/workspaces/{workspace_id}/ name it in the URL. Every other workspace route reads
the `X-Workspace` header (the workspace's id or slug); without it, a user with exactly one workspace
acts in that one, a user with none gets a personal workspace made for them, and a user with several
is asked to choose (400 `workspace_required`).
"""

from __future__ import annotations

import re

from unipulse.errors import ApiError

from . import services
from .models import Membership

WORKSPACE_HEADER = "X-Workspace"
HEADER_VALUE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_ID = 2**63 - 1
NOT_MEMBER = "No such workspace among yours."


def current_membership(request, url_workspace_id=None) -> Membership:
    """The caller's membership of the request's workspace; cached on the request.

    Raises ApiError 404 when the caller is not a member (whether or not the workspace exists), 400 for
    a malformed header or a missing one when the caller has several workspaces.
    """
    django_request = getattr(request, "_request", request)
    cached = getattr(django_request, "_workspace_membership", None)
    if cached is not None:
        return cached
    membership = _resolve(request.user, url_workspace_id, request.headers.get(WORKSPACE_HEADER, "").strip())
    django_request._workspace_membership = membership
    return membership


def _resolve(user, url_workspace_id, header: str) -> Membership:
    memberships = services.get_memberships_of(user)
    if url_workspace_id is not None:
        return _one(memberships.filter(workspace_id=_as_id(str(url_workspace_id))))
    if header:
        if not HEADER_VALUE.match(header):
            raise ApiError("invalid_workspace", f"{WORKSPACE_HEADER} is a workspace id or slug (letters, digits, "
                           "- and _).", 400, fields={WORKSPACE_HEADER: ["Not a workspace id or slug."]})
        by_id = header.isdigit() and int(header) <= MAX_ID
        return _one(memberships.filter(workspace_id=int(header)) if by_id else memberships.filter(workspace__slug=header))
    found = list(memberships[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        services.personal_workspace(user)
        return memberships.get()
    raise ApiError("workspace_required", f"You belong to several workspaces: send the {WORKSPACE_HEADER} header "
                   "with the id or slug of one (GET /api/v1/workspaces/ lists them).", 400)


def _as_id(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_ID:
        raise ApiError("not_found", NOT_MEMBER, 404)
    return int(value)


def _one(memberships) -> Membership:
    membership = memberships.first()
    if membership is None:
        raise ApiError("not_found", NOT_MEMBER, 404)
    return membership


def workspace_of(request):
    """The request's workspace (see current_membership)."""
    return current_membership(request).workspace
