"""The OpenAPI schema names the X-Workspace header on every operation that acts in a workspace."""

from __future__ import annotations

import re

from django.urls import Resolver404, resolve
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from .access import WORKSPACE_HEADER
from .permissions import PUBLIC, SIGNED_IN, rule_for

WORKSPACE_PARAMETER = OpenApiParameter(
    WORKSPACE_HEADER, {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}, OpenApiParameter.HEADER,
    description=("The workspace this request acts in: its id or slug (GET /api/v1/workspaces/). Optional for a "
                 "user with exactly one workspace; with several it is required (400 `workspace_required`). "
                 "A workspace you are not a member of is a 404; a role below what the operation needs a 403 "
                 "`role_required`."))


class WorkspaceAutoSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        return [*parameters, WORKSPACE_PARAMETER] if self._acts_in_header_workspace() else parameters

    def _acts_in_header_workspace(self) -> bool:
        if "{workspace_id}" in self.path:
            return False  # the URL names the workspace
        try:
            match = resolve(re.sub(r"\{[^}]+\}", "1", self.path))
        except Resolver404:
            return False
        return rule_for(match.url_name, self.method) not in (None, PUBLIC, SIGNED_IN)
