from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from events import services


class Command(BaseCommand):
    help = "Delete events (and their delivery logs) older than EVENT_RETENTION_DAYS: the feed's memory."

    def handle(self, *args, **options):
        try:
            deleted = services.prune()
        except DatabaseError as error:
            raise CommandError(f"prune_events: could not delete old events ({type(error).__name__}).") from error
        self.stdout.write(f"prune_events: deleted {deleted} event(s) older than {settings.EVENT_RETENTION_DAYS} days")
