from django.urls import path

import unipulse.converters  # noqa: F401  (registers <id:...>)

from . import api

urlpatterns = [
    path("workspaces/", api.WorkspaceList.as_view(), name="workspace-list"),
    path("workspaces/<id:workspace_id>/", api.WorkspaceDetail.as_view(), name="workspace-detail"),
    path("workspaces/<id:workspace_id>/leave/", api.leave_workspace, name="workspace-leave"),
    path("workspaces/<id:workspace_id>/members/", api.MemberList.as_view(), name="workspace-members"),
    path("workspaces/<id:workspace_id>/members/<id:pk>/", api.MemberDetail.as_view(), name="workspace-member-detail"),
    path("workspaces/<id:workspace_id>/invitations/", api.InvitationList.as_view(), name="workspace-invitations"),
    path("workspaces/<id:workspace_id>/invitations/<id:pk>/", api.InvitationDetail.as_view(),
         name="workspace-invitation-detail"),
    path("workspaces/<id:workspace_id>/audit/", api.AuditList.as_view(), name="workspace-audit"),
    path("invitations/accept/", api.accept_invitation, name="invitation-accept"),
]
