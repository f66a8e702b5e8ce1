"""Input checks and output shapes for workspaces, members, invitations and the audit log."""

from __future__ import annotations

from rest_framework import serializers

from .models import AuditEntry, Invitation, Membership, Role, Workspace, validate_timezone


class WorkspaceSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="The caller's role in this workspace.")

    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "timezone", "approval_required", "role", "created_at"]
        read_only_fields = ["id", "slug", "role", "created_at"]

    def get_role(self, workspace: Workspace) -> str:
        return self.context["roles"][workspace.pk]


class WorkspaceInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC", validators=[validate_timezone])
    approval_required = serializers.BooleanField(required=False, default=False)


class WorkspaceUpdateSerializer(WorkspaceInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])
    approval_required = serializers.BooleanField(required=False)


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "email", "role", "created_at"]
        read_only_fields = fields


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=["pending", "accepted", "revoked", "expired"], read_only=True)
    invited_by = serializers.IntegerField(source="invited_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at"]
        read_only_fields = fields


class InvitationInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class CreatedInvitationSerializer(InvitationSerializer):
    token = serializers.CharField(read_only=True, help_text=(
        "Shown once, here and in the e-mail: the invitee sends it to POST /api/v1/invitations/accept/."))

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token"]
        read_only_fields = fields


class AcceptInvitationSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True,
                                     help_text="Empty: the system (a worker, cron, a platform).")
    actor_username = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = ["id", "action", "actor", "actor_username", "object_type", "object_id", "summary", "created_at"]
        read_only_fields = fields

    def get_actor_username(self, entry: AuditEntry) -> str:
        return entry.actor.get_username() if entry.actor else ""
