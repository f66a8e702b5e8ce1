"""Posts move from their user to that user's personal workspace (`owner` stays as `created_by`), and
gain the approval fields."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def to_workspaces(apps, schema_editor):
    _checks_now(schema_editor)
    Post = apps.get_model("publishing", "Post")
    Workspace = apps.get_model("workspaces", "Workspace")
    Post.objects.filter(workspace__isnull=True).update(workspace_id=Subquery(
        Workspace.objects.filter(personal_for_id=OuterRef("created_by_id")).values("pk")[:1]))


def to_owners(apps, schema_editor):
    _checks_now(schema_editor)
    Post = apps.get_model("publishing", "Post")
    Membership = apps.get_model("workspaces", "Membership")
    Post.objects.filter(created_by__isnull=True).update(created_by_id=Subquery(
        Membership.objects.filter(workspace_id=OuterRef("workspace_id"), role="owner").order_by("pk")
        .values("user_id")[:1]))
    Post.objects.filter(created_by__isnull=True).delete()


def _checks_now(schema_editor):
    # PostgreSQL refuses ALTER TABLE (the NOT NULL below) while deferred foreign-key checks of rows
    # updated in the same transaction are pending: run those checks as each statement ends instead.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ("publishing", "0003_post_idempotency_fingerprint"),
        ("social", "0004_workspaces"),
        ("workspaces", "0002_personal_workspaces"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="post", name="uniq_post_idempotency_key"),
        migrations.RemoveIndex(model_name="post", name="post_owner_created"),
        migrations.AddField(
            model_name="post", name="workspace",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="posts",
                                    to="workspaces.workspace"),
        ),
        migrations.RenameField(model_name="post", old_name="owner", new_name="created_by"),
        migrations.AlterField(
            model_name="post", name="created_by",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="posts", to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(to_workspaces, to_owners),
        migrations.AlterField(
            model_name="post", name="workspace",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="posts",
                                    to="workspaces.workspace"),
        ),
        migrations.AddField(
            model_name="post", name="approval",
            field=models.CharField(blank=True, choices=[("", "Not needed"), ("pending", "Pending approval"),
                                                        ("approved", "Approved"), ("rejected", "Rejected"),
                                                        ("expired", "Time passed while pending")],
                                   default="", max_length=16),
        ),
        migrations.AddField(
            model_name="post", name="review_comment",
            field=models.TextField(blank=True, default="", help_text="Why it was rejected (kept until approved)."),
        ),
        migrations.AddField(model_name="post", name="reviewed_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="post", name="reviewed_by",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="posttarget", name="status",
            field=models.CharField(choices=[("draft", "Draft"), ("pending_approval", "Pending approval"),
                                            ("scheduled", "Scheduled"), ("queued", "Queued"),
                                            ("publishing", "Publishing"), ("published", "Published"),
                                            ("unconfirmed", "Unconfirmed"), ("failed", "Failed"),
                                            ("cancelled", "Cancelled")], default="draft", max_length=16),
        ),
        migrations.AddIndex(
            model_name="post", index=models.Index(fields=["workspace", "created_at"], name="post_workspace_created"),
        ),
        migrations.AddConstraint(
            model_name="post",
            constraint=models.UniqueConstraint(condition=models.Q(("idempotency_key", ""), _negated=True),
                                               fields=("workspace", "idempotency_key"), name="uniq_post_idempotency_key"),
        ),
    ]
