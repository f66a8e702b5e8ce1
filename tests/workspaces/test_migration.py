"""The workspace data migration on a populated database: every user gets a personal workspace holding
their accounts and posts, and migrating back gives every row its owner again. Runs on SQLite and on
PostgreSQL (CI runs the suite on both)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("workspaces", None)]  # unapplies social 0004 and publishing 0004 with it
BEFORE_STATE = [("social", "0003_token_refresh_schedule"), ("publishing", "0003_post_idempotency_fingerprint")]


def migrate(targets, state=None):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(state or targets).apps


def leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_users_rows_move_into_personal_workspaces_and_back():
    old = migrate(BEFORE, BEFORE_STATE)
    User = old.get_model("auth", "User")
    ana, ben, idle = (User.objects.create(username=n) for n in ("ana", "ben", "idle"))
    Account, Post = old.get_model("social", "SocialAccount"), old.get_model("publishing", "Post")
    for user, n in ((ana, 3), (ben, 2)):
        for i in range(n):
            Account.objects.create(owner=user, platform="facebook", external_id=f"page-{i}")  # same Page ids: per owner
        Post.objects.create(owner=user, text=f"by {user.username}", idempotency_key="same-key")
    old.get_model("social", "OAuthState").objects.create(state="in-flight", user=ana, platform="facebook")

    new = migrate(leaves())
    Workspace, Membership = new.get_model("workspaces", "Workspace"), new.get_model("workspaces", "Membership")
    assert Workspace.objects.count() == 3  # idle users too
    for user, n in ((ana, 3), (ben, 2), (idle, 0)):
        workspace = Workspace.objects.get(personal_for_id=user.pk)
        assert workspace.slug == f"{user.username}-{user.pk}" and workspace.name == user.username
        assert list(Membership.objects.filter(workspace=workspace).values_list("user_id", "role")) == [(user.pk, "owner")]
        accounts = new.get_model("social", "SocialAccount").objects.filter(workspace=workspace)
        assert accounts.count() == n and set(accounts.values_list("connected_by_id", flat=True)) <= {user.pk}
        posts = new.get_model("publishing", "Post").objects.filter(workspace=workspace)
        assert list(posts.values_list("created_by_id", flat=True)) == ([user.pk] if n else [])
    assert new.get_model("social", "OAuthState").objects.count() == 0  # short-lived: a connect in flight restarts

    back = migrate(BEFORE, BEFORE_STATE)
    Account, Post = back.get_model("social", "SocialAccount"), back.get_model("publishing", "Post")
    assert sorted(Account.objects.values_list("owner_id", flat=True)) == [ana.pk] * 3 + [ben.pk] * 2
    assert sorted(Post.objects.values_list("owner_id", "text")) == [(ana.pk, "by ana"), (ben.pk, "by ben")]
    assert "workspaces_workspace" not in connection.introspection.table_names()

    migrate(leaves())  # forward again, as the rest of the suite expects
    assert Workspace.objects.count() == 3
