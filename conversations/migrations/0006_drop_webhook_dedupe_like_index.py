"""Drop the `varchar_pattern_ops` index PostgreSQL got beside the unique index on WebhookEvent.dedupe_key.

Django adds such a `_like` index to every unique or indexed CharField for LIKE 'abc%' queries. Nothing
asks dedupe_key that (lookups are exact; the admin's search is icontains, which no btree serves), and
every delivery paid for one more index entry, and every processed event for another (issue 19's
profile of the webhook intake). The model is unchanged; only that index goes. SQLite has none.
"""

from django.db import migrations


def _like_index(schema_editor):
    model_table, column = "conversations_webhookevent", "dedupe_key"
    return schema_editor._create_index_name(model_table, [column], suffix="_like")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(_like_index(schema_editor))}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(_like_index(schema_editor))} "
            "ON conversations_webhookevent (dedupe_key varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0005_participant_profile")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
