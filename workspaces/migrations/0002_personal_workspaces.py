"""Every existing user gets a personal workspace (role owner); social and publishing then move their
rows into it. Reversed after them, it deletes only those workspaces again."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.text import slugify

BATCH = 2000


def personal_slug(user) -> str:
    return f"{slugify(user.username)[:50] or 'user'}-{user.pk}"


def create_personal_workspaces(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Workspace = apps.get_model("workspaces", "Workspace")
    Membership = apps.get_model("workspaces", "Membership")
    have = set(Workspace.objects.filter(personal_for__isnull=False).values_list("personal_for_id", flat=True))
    users = [u for u in User.objects.only("pk", "username").order_by("pk") if u.pk not in have]
    now = timezone.now()
    for start in range(0, len(users), BATCH):
        chunk = users[start:start + BATCH]
        Workspace.objects.bulk_create([Workspace(name=u.username, slug=personal_slug(u), timezone="UTC",
                                                 personal_for_id=u.pk, created_at=now) for u in chunk])
        ids = dict(Workspace.objects.filter(personal_for_id__in=[u.pk for u in chunk])
                   .values_list("personal_for_id", "pk"))
        Membership.objects.bulk_create([Membership(user_id=u.pk, workspace_id=ids[u.pk], role="owner", created_at=now)
                                        for u in chunk], ignore_conflicts=True)


def delete_personal_workspaces(apps, schema_editor):
    # Runs after social and publishing gave their rows back to users, so nothing cascades with them.
    apps.get_model("workspaces", "Workspace").objects.filter(personal_for__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_personal_workspaces, delete_personal_workspaces)]
