"""Accounts move from their user to that user's personal workspace; `owner` stays as `connected_by`."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def to_workspaces(apps, schema_editor):
    _checks_now(schema_editor)
    SocialAccount = apps.get_model("social", "SocialAccount")
    Workspace = apps.get_model("workspaces", "Workspace")
    SocialAccount.objects.filter(workspace__isnull=True).update(workspace_id=Subquery(
        Workspace.objects.filter(personal_for_id=OuterRef("connected_by_id")).values("pk")[:1]))
    apps.get_model("social", "OAuthState").objects.all().delete()  # short-lived; a connect in flight starts again


def to_owners(apps, schema_editor):
    _checks_now(schema_editor)
    # An account connected by nobody known gets its workspace's first owner back as `owner`.
    SocialAccount = apps.get_model("social", "SocialAccount")
    Membership = apps.get_model("workspaces", "Membership")
    SocialAccount.objects.filter(connected_by__isnull=True).update(connected_by_id=Subquery(
        Membership.objects.filter(workspace_id=OuterRef("workspace_id"), role="owner").order_by("pk")
        .values("user_id")[:1]))
    SocialAccount.objects.filter(connected_by__isnull=True).delete()  # a workspace with no owner left: no one to give it to


def _checks_now(schema_editor):
    # PostgreSQL refuses ALTER TABLE (the NOT NULL below) while deferred foreign-key checks of rows
    # updated in the same transaction are pending: run those checks as each statement ends instead.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ("social", "0003_token_refresh_schedule"),
        ("workspaces", "0002_personal_workspaces"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="socialaccount", name="uniq_account_per_owner"),
        migrations.AddField(
            model_name="socialaccount", name="workspace",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="social_accounts", to="workspaces.workspace"),
        ),
        migrations.AddField(
            model_name="oauthstate", name="workspace",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="workspaces.workspace"),
        ),
        migrations.RenameField(model_name="socialaccount", old_name="owner", new_name="connected_by"),
        migrations.AlterField(
            model_name="socialaccount", name="connected_by",
            field=models.ForeignKey(blank=True, help_text="Who last connected it.", null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="connected_accounts",
                                    to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(to_workspaces, to_owners),
        migrations.AlterField(
            model_name="socialaccount", name="workspace",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="social_accounts",
                                    to="workspaces.workspace"),
        ),
        migrations.AlterField(
            model_name="oauthstate", name="workspace",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="workspaces.workspace"),
        ),
        migrations.AddConstraint(
            model_name="socialaccount",
            constraint=models.UniqueConstraint(fields=("workspace", "platform", "external_id"),
                                               name="uniq_account_per_workspace"),
        ),
    ]
