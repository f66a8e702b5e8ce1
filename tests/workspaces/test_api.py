"""Workspaces, members and invitations through the API, and the X-Workspace convention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from workspaces.models import AuditEntry, Invitation, Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_new_user_gets_a_personal_workspace_as_owner_on_first_use(api_client, user):
    assert not Membership.objects.filter(user=user).exists()
    response = api_client.get("/api/v1/workspaces/")
    assert response.status_code == 200
    [workspace] = response.json()["results"]
    assert workspace["role"] == "owner" and workspace["name"] == "alice" and workspace["timezone"] == "UTC"
    assert Workspace.objects.get(pk=workspace["id"]).personal_for == user
    api_client.get("/api/v1/accounts/")
    assert Membership.objects.filter(user=user).count() == 1  # made once


def test_creating_a_workspace_makes_the_caller_owner_and_audits_it(api_client, user):
    response = api_client.post("/api/v1/workspaces/", {"name": "Bakery Team", "timezone": "Europe/Paris",
                                                       "approval_required": True}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["slug"], body["timezone"], body["approval_required"], body["role"]) == (
        "Bakery Team", "bakery-team", "Europe/Paris", True, "owner")
    assert AuditEntry.objects.get(workspace_id=body["id"]).action == "workspace.created"


def test_an_unknown_timezone_is_a_400_naming_the_field(api_client):
    response = api_client.post("/api/v1/workspaces/", {"name": "X", "timezone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["timezone"]


def test_with_several_workspaces_the_header_is_required_and_chooses_one(api_client, user, workspace, account_factory):
    team = api_client.post("/api/v1/workspaces/", {"name": "Team"}, format="json").json()
    mine = account_factory("facebook")  # in the personal workspace
    theirs = account_factory("tiktok", workspace=Workspace.objects.get(pk=team["id"]))
    response = api_client.get("/api/v1/accounts/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "workspace_required"
    by_id = api_client.get("/api/v1/accounts/", HTTP_X_WORKSPACE=str(team["id"])).json()["results"]
    by_slug = api_client.get("/api/v1/accounts/", HTTP_X_WORKSPACE=workspace.slug).json()["results"]
    assert [a["id"] for a in by_id] == [theirs.pk] and [a["id"] for a in by_slug] == [mine.pk]


@pytest.mark.parametrize("value,status,code", [("99999", 404, "not_found"), ("9" * 30, 404, "not_found"),
                                               ("no-such-slug", 404, "not_found"), ("bad value!", 400, "invalid_workspace"),
                                               ("a\u0000b", 400, "invalid_workspace")])
def test_a_header_naming_no_workspace_of_the_caller_is_a_clear_error(api_client, workspace, value, status, code):
    response = api_client.get("/api/v1/posts/", HTTP_X_WORKSPACE=value)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_a_non_member_naming_another_workspace_gets_404(api_client, other_client, other_user):
    other = client_for(other_user).get("/api/v1/workspaces/").json()["results"][0]
    response = api_client.get("/api/v1/accounts/", HTTP_X_WORKSPACE=str(other["id"]))
    assert response.status_code == 404
    assert api_client.get(f"/api/v1/workspaces/{other['id']}/").status_code == 404


def test_a_viewer_can_read_but_not_write_and_is_told_the_role_needed(workspace, member_factory, account_factory):
    _, viewer = member_factory(workspace, Role.VIEWER)
    fb = account_factory("facebook")
    assert viewer.get("/api/v1/posts/").status_code == 200
    response = viewer.post("/api/v1/posts/", {"text": "hi", "accounts": [fb.pk]}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == {"code": "role_required", "fields": {},
                                        "message": "This needs the editor role or higher in this workspace; you are viewer."}


def test_the_last_owner_can_be_neither_demoted_nor_removed(api_client, user, workspace):
    me = Membership.objects.get(user=user, workspace=workspace)
    url = f"/api/v1/workspaces/{workspace.pk}/members/{me.pk}/"
    assert api_client.patch(url, {"role": "admin"}, format="json").json()["error"]["code"] == "last_owner"
    assert api_client.delete(url).status_code == 409
    assert api_client.post(f"/api/v1/workspaces/{workspace.pk}/leave/").status_code == 409
    assert Membership.objects.get(pk=me.pk).role == "owner"


def test_an_admin_manages_members_below_owner_but_never_owners(workspace, user, member_factory):
    admin_user, admin = member_factory(workspace, Role.ADMIN)
    editor_user, _ = member_factory(workspace, Role.EDITOR)
    editor = Membership.objects.get(user=editor_user)
    owner = Membership.objects.get(user=user)
    base = f"/api/v1/workspaces/{workspace.pk}/members"
    assert admin.patch(f"{base}/{editor.pk}/", {"role": "viewer"}, format="json").json()["role"] == "viewer"
    assert admin.patch(f"{base}/{editor.pk}/", {"role": "owner"}, format="json").status_code == 403
    assert admin.patch(f"{base}/{owner.pk}/", {"role": "editor"}, format="json").status_code == 403
    assert admin.delete(f"{base}/{owner.pk}/").status_code == 403
    assert admin.delete(f"{base}/{editor.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=editor.pk).exists()
    actions = list(AuditEntry.objects.filter(workspace=workspace).values_list("action", "actor_id").order_by("id"))
    assert actions[-2:] == [("member.changed", admin_user.pk), ("member.removed", admin_user.pk)]


def test_a_second_owner_lets_the_first_step_down(api_client, user, workspace, member_factory):
    other, _ = member_factory(workspace, Role.ADMIN)
    base = f"/api/v1/workspaces/{workspace.pk}/members"
    other_m, me = Membership.objects.get(user=other), Membership.objects.get(user=user)
    assert api_client.patch(f"{base}/{other_m.pk}/", {"role": "owner"}, format="json").status_code == 200
    assert api_client.patch(f"{base}/{me.pk}/", {"role": "admin"}, format="json").json()["role"] == "admin"


def test_an_invitation_is_mailed_accepted_once_by_any_signed_in_user(api_client, workspace, django_user_model):
    response = api_client.post(f"/api/v1/workspaces/{workspace.pk}/invitations/",
                               {"email": "bob@example.com", "role": "editor"}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    invitation = Invitation.objects.get()
    assert invitation.token_hash != token and token not in invitation.token_hash  # only a hash is stored
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bob@example.com"] and token in mail.outbox[0].body
    assert "token" not in api_client.get(f"/api/v1/workspaces/{workspace.pk}/invitations/").json()["results"][0]

    bob = client_for(django_user_model.objects.create_user("bob", "bob-other@example.com", "pw-bob-123"))
    joined = bob.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert joined.status_code == 200 and joined.json()["id"] == workspace.pk and joined.json()["role"] == "editor"
    again = bob.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert again.status_code == 410 and again.json()["error"]["code"] == "invitation_accepted"
    assert bob.get("/api/v1/workspaces/").json()["results"][0]["id"] == workspace.pk  # only the invited one: no personal one made
    assert Workspace.objects.count() == 1


@pytest.mark.parametrize("spoil,code", [("revoke", "invitation_revoked"), ("expire", "invitation_expired")])
def test_a_revoked_or_expired_invitation_cannot_be_accepted(api_client, workspace, other_client, spoil, code):
    created = api_client.post(f"/api/v1/workspaces/{workspace.pk}/invitations/",
                              {"email": "m@example.com", "role": "viewer"}, format="json").json()
    if spoil == "revoke":
        assert api_client.delete(f"/api/v1/workspaces/{workspace.pk}/invitations/{created['id']}/").json()["status"] == "revoked"
    else:
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = other_client.post("/api/v1/invitations/accept/", {"token": created["token"]}, format="json")
    assert response.status_code == 410 and response.json()["error"]["code"] == code
    assert not Membership.objects.filter(workspace=workspace, user__username="mallory").exists()


def test_an_unknown_invitation_token_is_a_404(other_client):
    response = other_client.post("/api/v1/invitations/accept/", {"token": "nope"}, format="json")
    assert response.status_code == 404


def test_only_an_owner_deletes_a_workspace_and_its_accounts_are_disconnected_first(
        api_client, workspace, member_factory, account_factory, mocked_platforms):
    from social.models import SocialAccount

    _, admin = member_factory(workspace, Role.ADMIN)
    tiktok = account_factory("tiktok")
    mocked_platforms.add("POST", "https://open.tiktokapis.com/v2/oauth/revoke/", json={})
    assert admin.delete(f"/api/v1/workspaces/{workspace.pk}/").status_code == 403
    assert api_client.delete(f"/api/v1/workspaces/{workspace.pk}/").status_code == 204
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert not SocialAccount.objects.filter(pk=tiktok.pk).exists()
    assert [c.request.url for c in mocked_platforms.calls] == ["https://open.tiktokapis.com/v2/oauth/revoke/"]


def test_settings_changes_are_audited_with_what_changed(api_client, workspace):
    response = api_client.patch(f"/api/v1/workspaces/{workspace.pk}/", {"approval_required": True}, format="json")
    assert response.status_code == 200 and response.json()["approval_required"] is True
    entry = AuditEntry.objects.filter(workspace=workspace).latest("id")
    assert (entry.action, entry.summary) == ("workspace.settings_changed", "Changed approval_required to True.")


def test_the_audit_log_is_cursor_paginated_newest_first_for_admins(api_client, workspace, user, member_factory):
    from workspaces.services import record

    for i in range(60):
        record(workspace.pk, user, "post.created", None, f"entry {i}")
    first = api_client.get(f"/api/v1/workspaces/{workspace.pk}/audit/").json()
    assert len(first["results"]) == 50 and first["results"][0]["summary"] == "entry 59"
    assert first["results"][0]["actor_username"] == "alice"
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 11 and second["results"][-1]["action"] == "workspace.created"
    assert second["next"] is None
    seen = [e["id"] for e in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == AuditEntry.objects.filter(workspace=workspace).count()
    _, editor = member_factory(workspace, Role.EDITOR)
    assert editor.get(f"/api/v1/workspaces/{workspace.pk}/audit/").status_code == 403


def test_audit_entries_are_append_only(workspace, user):
    from workspaces.services import record

    entry = record(workspace.pk, user, "post.created", None, "x")
    entry.summary = "rewritten"
    with pytest.raises(ValueError):
        entry.save()
