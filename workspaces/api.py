"""Workspaces, members, invitations and the audit log: thin views over workspaces.services.

The role each route needs is in workspaces/permissions.py; these views only narrow to the caller's
workspace (current_membership) and call one service.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from unipulse.api_errors import ErrorSerializer

from . import services
from .access import current_membership
from .models import Invitation, Membership, Workspace
from .serializers import (
    AcceptInvitationSerializer,
    AuditEntrySerializer,
    CreatedInvitationSerializer,
    InvitationInputSerializer,
    InvitationSerializer,
    MemberSerializer,
    RoleSerializer,
    WorkspaceInputSerializer,
    WorkspaceSerializer,
    WorkspaceUpdateSerializer,
)

LAST_OWNER = OpenApiResponse(ErrorSerializer, description="`last_owner`: a workspace keeps at least one owner.")


def _workspace_response(workspace: Workspace, role: str, code=status.HTTP_200_OK) -> Response:
    return Response(WorkspaceSerializer(workspace, context={"roles": {workspace.pk: role}}).data, status=code)


class WorkspaceList(GenericAPIView):
    """The caller's workspaces by name, each with the caller's role, paginated; creating one makes the caller its
    owner."""

    serializer_class = WorkspaceSerializer
    queryset = Workspace.objects.none()

    @extend_schema(responses=WorkspaceSerializer(many=True))
    def get(self, request):
        if not services.get_memberships_of(request.user).exists():
            services.personal_workspace(request.user)  # as on any other first request: a personal one
        memberships = self.paginate_queryset(services.get_memberships_of(request.user))
        roles = {m.workspace_id: m.role for m in memberships}
        return self.get_paginated_response(WorkspaceSerializer([m.workspace for m in memberships], many=True,
                                                               context={"roles": roles}).data)

    @extend_schema(request=WorkspaceInputSerializer, responses={201: WorkspaceSerializer})
    def post(self, request):
        body = WorkspaceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        workspace = services.create_workspace(request.user, data["name"], timezone_name=data["timezone"],
                                              approval_required=data["approval_required"])
        return _workspace_response(workspace, "owner", status.HTTP_201_CREATED)


class WorkspaceDetail(GenericAPIView):
    serializer_class = WorkspaceSerializer
    queryset = Workspace.objects.none()

    def get(self, request, workspace_id):
        membership = current_membership(request, workspace_id)
        return _workspace_response(membership.workspace, membership.role)

    @extend_schema(request=WorkspaceUpdateSerializer)
    def patch(self, request, workspace_id):
        membership = current_membership(request, workspace_id)
        body = WorkspaceUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        workspace = services.update_workspace(membership.workspace, request.user, body.validated_data)
        return _workspace_response(workspace, membership.role)

    @extend_schema(responses={204: None})
    def delete(self, request, workspace_id):
        """Delete the workspace: its accounts are disconnected, then everything it owns is deleted."""
        services.delete_workspace(current_membership(request, workspace_id).workspace)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(request=None, responses={204: None, 409: LAST_OWNER})
@api_view(["POST"])
def leave_workspace(request, workspace_id):
    """Leave the workspace (any role; the last owner cannot leave)."""
    membership = current_membership(request, workspace_id)
    services.remove_member(membership, membership)
    return Response(status=status.HTTP_204_NO_CONTENT)


class MemberList(GenericAPIView):
    """The workspace's members by username, paginated."""

    serializer_class = MemberSerializer
    queryset = Membership.objects.none()

    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, workspace_id):
        workspace = current_membership(request, workspace_id).workspace
        members = Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username", "pk")
        return self.get_paginated_response(MemberSerializer(self.paginate_queryset(members), many=True).data)


class MemberDetail(GenericAPIView):
    """One member. Admins manage members below owner; only owners manage owners."""

    serializer_class = MemberSerializer
    queryset = Membership.objects.none()

    def _member(self, request, workspace_id, pk) -> tuple[Membership, Membership]:
        actor = current_membership(request, workspace_id)
        return actor, get_object_or_404(Membership.objects.select_related("user"), workspace=actor.workspace, pk=pk)

    def get(self, request, workspace_id, pk):
        return Response(MemberSerializer(self._member(request, workspace_id, pk)[1]).data)

    @extend_schema(request=RoleSerializer, responses={200: MemberSerializer, 409: LAST_OWNER})
    def patch(self, request, workspace_id, pk):
        actor, member = self._member(request, workspace_id, pk)
        body = RoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(MemberSerializer(services.change_role(actor, member, body.validated_data["role"])).data)

    @extend_schema(responses={204: None, 409: LAST_OWNER})
    def delete(self, request, workspace_id, pk):
        actor, member = self._member(request, workspace_id, pk)
        services.remove_member(actor, member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationList(GenericAPIView):
    """The workspace's invitations (pending, accepted, revoked, expired), newest first, paginated."""

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()

    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request, workspace_id):
        workspace = current_membership(request, workspace_id).workspace
        invitations = Invitation.objects.filter(workspace=workspace).order_by("-created_at", "-id")
        return self.get_paginated_response(InvitationSerializer(self.paginate_queryset(invitations), many=True).data)

    @extend_schema(request=InvitationInputSerializer, responses={201: CreatedInvitationSerializer})
    def post(self, request, workspace_id):
        """Invite someone by e-mail (sent through Django's e-mail backend); valid for 7 days, once."""
        actor = current_membership(request, workspace_id)
        body = InvitationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invitation, token = services.invite(actor, body.validated_data["email"], body.validated_data["role"])
        invitation.token = token
        return Response(CreatedInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetail(GenericAPIView):
    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()

    def _invitation(self, request, workspace_id, pk) -> tuple[Membership, Invitation]:
        actor = current_membership(request, workspace_id)
        return actor, get_object_or_404(Invitation, workspace=actor.workspace, pk=pk)

    def get(self, request, workspace_id, pk):
        return Response(InvitationSerializer(self._invitation(request, workspace_id, pk)[1]).data)

    def delete(self, request, workspace_id, pk):
        """Revoke a pending invitation (an accepted one stays accepted)."""
        actor, invitation = self._invitation(request, workspace_id, pk)
        return Response(InvitationSerializer(services.revoke_invitation(actor, invitation)).data)


@extend_schema(request=AcceptInvitationSerializer, responses={200: WorkspaceSerializer, 404: OpenApiResponse(
    ErrorSerializer, description="`not_found`: no such invitation."), 410: OpenApiResponse(
    ErrorSerializer, description="`invitation_accepted`, `invitation_revoked`, `invitation_expired`.")})
@api_view(["POST"])
def accept_invitation(request):
    """Join the invitation's workspace as the signed-in user (any user: the token is the proof)."""
    body = AcceptInvitationSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    membership = services.accept_invitation(request.user, body.validated_data["token"])
    return _workspace_response(membership.workspace, membership.role)


class AuditPagination(CursorPagination):
    """The audit log is a feed: entries arrive while someone pages back through it, newest first. A cursor
    never shows an entry twice or skips one when new ones come in (page numbers would shift by the new
    entries), and it costs no COUNT over a log that only grows. Answer: {next, previous, results}."""

    ordering = "-id"
    page_size = 50


class AuditList(GenericAPIView):
    """What changed in the workspace, newest first (cursor pagination: follow `next`)."""

    serializer_class = AuditEntrySerializer
    pagination_class = AuditPagination
    queryset = Workspace.objects.none()

    @extend_schema(responses=AuditEntrySerializer(many=True))  # a cursor page {next, previous, results}
    def get(self, request, workspace_id):
        entries = services.get_audit_entries(current_membership(request, workspace_id).workspace)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)



