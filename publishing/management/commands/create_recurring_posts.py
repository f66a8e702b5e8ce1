from django.core.management.base import BaseCommand, CommandError

from publishing.services import recurrence


class Command(BaseCommand):
    help = "Create the occurrences of recurring posts that fall inside SCHEDULING_RECURRENCE_DAYS (cron: hourly)."

    def handle(self, *args, **options):
        try:
            count = recurrence.create_due_occurrences()
        except Exception as error:  # noqa: BLE001 - the database; named by type, no row data
            raise CommandError(f"create_recurring_posts: could not create occurrences ({type(error).__name__}).") from error
        self.stdout.write(f"create_recurring_posts: created {count} post(s)")
