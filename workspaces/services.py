"""Workspaces, members, invitations and the audit log (plain functions; see STYLE.md)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from unipulse.errors import ApiError

from .models import AuditEntry, Invitation, Membership, Role, Workspace, role_at_least

INVITATION_DAYS = 7


# ---- audit --------------------------------------------------------------------------------------

def record(workspace_id: int, actor, action: str, obj=None, summary: str = "") -> AuditEntry:
    """Append one audit entry. `obj` is a model instance (its type and id are kept) or None.

    Inside the caller's transaction: an action rolled back leaves no entry. The summary is written by
    our code from names and ids, never from a token or a platform answer.
    """
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        workspace_id=workspace_id, actor_id=actor_id, action=action,
        object_type=obj._meta.model_name if obj is not None else "", object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:500])


def get_audit_entries(workspace: Workspace) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(workspace=workspace).select_related("actor").order_by("-id")


# ---- workspaces ---------------------------------------------------------------------------------

def get_memberships_of(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name", "workspace_id")


def _free_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_workspace(user, name: str, *, timezone_name: str = "UTC", approval_required: bool = False,
                     personal: bool = False) -> Workspace:
    """A new workspace with `user` as its owner. A slug taken by a concurrent create is retried."""
    for _ in range(5):
        try:
            with transaction.atomic():
                workspace = Workspace.objects.create(
                    name=name, slug=_free_slug(name), timezone=timezone_name, approval_required=approval_required,
                    personal_for=user if personal else None)
                Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)
                record(workspace.pk, user, "workspace.created", workspace, f"Created workspace {name}.")
                return workspace
        except IntegrityError:
            if personal and Workspace.objects.filter(personal_for=user).exists():
                return Workspace.objects.get(personal_for=user)
    raise ApiError("slug_taken", "Could not find a free address for this workspace name; try another name.", 409)


def personal_workspace(user) -> Workspace:
    """The workspace made for `user` when they belonged to none (created once, even under a race)."""
    existing = Workspace.objects.filter(personal_for=user).first()
    return existing or create_workspace(user, user.get_username(), personal=True)


def update_workspace(workspace: Workspace, actor, data: dict) -> Workspace:
    changed = [name for name, value in data.items() if getattr(workspace, name) != value]
    for name in changed:
        setattr(workspace, name, data[name])
    if changed:
        with transaction.atomic():
            workspace.save(update_fields=changed)
            record(workspace.pk, actor, "workspace.settings_changed", workspace,
                   "Changed " + ", ".join(f"{name} to {data[name]}" for name in changed) + ".")
    return workspace


def delete_workspace(workspace: Workspace) -> None:
    """Delete a workspace and everything it owns (accounts, posts, inbox, audit log)."""
    workspace.delete()


# ---- members ------------------------------------------------------------------------------------

def _check_can_manage(actor: Membership, role: str) -> None:
    """Admins manage members below owner; only an owner grants, changes or removes the owner role."""
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise ApiError("role_required", "Only an owner can manage owners.", 403)


def _owners_left(workspace_id: int, without: Membership) -> int:
    return Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).exclude(pk=without.pk).count()


def change_role(actor: Membership, member: Membership, role: str) -> Membership:
    _check_can_manage(actor, member.role)
    _check_can_manage(actor, role)
    if member.role == role:
        return member
    with transaction.atomic():
        member = Membership.objects.select_for_update().get(pk=member.pk)
        if member.role == Role.OWNER and role != Role.OWNER:
            _lock_owners(member.workspace_id)
            if not _owners_left(member.workspace_id, member):
                raise ApiError("last_owner", "A workspace keeps at least one owner: make someone else owner first.", 409)
        old, member.role = member.role, role
        member.save(update_fields=["role"])
        record(member.workspace_id, actor.user, "member.changed", member,
               f"{member.user.get_username()}: {old} -> {role}.")
    return member


def remove_member(actor: Membership, member: Membership) -> None:
    if actor.pk != member.pk:  # anyone may leave; removing others needs the manage rule
        _check_can_manage(actor, member.role)
    with transaction.atomic():
        if member.role == Role.OWNER:
            _lock_owners(member.workspace_id)
            if not _owners_left(member.workspace_id, member):
                raise ApiError("last_owner", "A workspace keeps at least one owner: make someone else owner first.", 409)
        record(member.workspace_id, actor.user, "member.removed", member, f"Removed {member.user.get_username()}.")
        member.delete()


def _lock_owners(workspace_id: int) -> None:
    """Serialise owner changes of one workspace, so two demotions at once cannot leave it without an owner."""
    list(Workspace.objects.select_for_update().filter(pk=workspace_id).values_list("pk", flat=True))
    list(Membership.objects.select_for_update().filter(workspace_id=workspace_id, role=Role.OWNER)
         .values_list("pk", flat=True))


# ---- invitations --------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(actor: Membership, email: str, role: str) -> tuple[Invitation, str]:
    """Create an invitation and e-mail its link. Returns (invitation, token); the token is never stored."""
    _check_can_manage(actor, role)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            workspace=actor.workspace, email=email, role=role, token_hash=hash_token(token), invited_by=actor.user,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS))
        record(actor.workspace_id, actor.user, "member.invited", invitation, f"Invited {email} as {role}.")
    link = f"{settings.FRONTEND_URL}/invitations/accept?token={token}"
    send_mail(f"You are invited to {actor.workspace.name} on UniPulse",
              f"{actor.user.get_username()} invited you to the workspace {actor.workspace.name} as {role}.\n\n"
              f"Accept within {INVITATION_DAYS} days: {link}\n\n"
              f"Or, signed in, POST /api/v1/invitations/accept/ with {{\"token\": \"{token}\"}}.\n",
              None, [email], fail_silently=False)
    return invitation, token


def revoke_invitation(actor: Membership, invitation: Invitation) -> Invitation:
    if invitation.status == "pending":
        with transaction.atomic():
            Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(revoked_at=timezone.now())
            invitation.refresh_from_db()
            record(actor.workspace_id, actor.user, "member.invitation_revoked", invitation,
                   f"Revoked the invitation of {invitation.email}.")
    return invitation


def accept_invitation(user, token: str) -> Membership:
    """Consume an invitation once, for whichever user is signed in. Raises ApiError 404/409/410."""
    with transaction.atomic():
        invitation = (Invitation.objects.select_for_update().select_related("workspace")
                      .filter(token_hash=hash_token(token)).first())
        if invitation is None:
            raise ApiError("not_found", "This invitation link is not valid.", 404)
        if invitation.status != "pending":
            raise ApiError(f"invitation_{invitation.status}", f"This invitation is {invitation.status}; "
                           "ask an admin of the workspace for a new one.", 410)
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        membership, created = Membership.objects.get_or_create(
            user=user, workspace=invitation.workspace, defaults={"role": invitation.role})
        if not created and not role_at_least(membership.role, invitation.role):
            membership.role = invitation.role  # an invitation never lowers a role the user already has
            membership.save(update_fields=["role"])
        record(invitation.workspace_id, user, "member.joined", membership,
               f"{user.get_username()} joined as {membership.role} (invited as {invitation.email}).")
    return membership


def get_admin_emails(workspace_id: int) -> list[str]:
    """E-mail addresses of the workspace's owners and admins (for notices such as "reconnect")."""
    return sorted({e for e in Membership.objects.filter(workspace_id=workspace_id, role__in=[Role.OWNER, Role.ADMIN])
                   .values_list("user__email", flat=True) if e})


def is_member(workspace_id: int, user_id: int) -> bool:
    return Membership.objects.filter(workspace_id=workspace_id, user_id=user_id).exists()
