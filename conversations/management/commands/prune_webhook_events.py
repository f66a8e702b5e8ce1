from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from conversations import services
from unipulse.progress import ProgressBar


class Command(BaseCommand):
    help = ("Delete processed and ignored webhook events older than WEBHOOK_EVENT_RETENTION_DAYS (or --days), "
            "keeping their dedupe keys so a replay is never routed again.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep this many days of events.")

    def handle(self, *args, days=None, **options):
        days = settings.WEBHOOK_EVENT_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError(f"prune_webhook_events: --days must be 0 or more, not {days}.")
        deleted = 0
        try:
            with ProgressBar(self.stderr, "events", services.count_prunable_webhook_events(days)) as bar:
                deleted = services.prune_webhook_events(days, progress=bar.update)
        except DatabaseError as error:
            raise CommandError(f"prune_webhook_events: could not delete old events ({type(error).__name__}).") from error
        self.stdout.write(f"prune_webhook_events: deleted {deleted} event(s) older than {days} days; "
                          "their keys still refuse replays")
