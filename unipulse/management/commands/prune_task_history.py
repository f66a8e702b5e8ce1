from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django_dramatiq.models import Task

from unipulse.progress import ProgressBar

BATCH = 1000  # short DELETEs: the workers write task rows all the while


class Command(BaseCommand):
    help = "Delete background-task history older than DRAMATIQ_TASK_HISTORY_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep this many days of history.")

    def handle(self, *args, days=None, **options):
        days = settings.DRAMATIQ_TASK_HISTORY_DAYS if days is None else days
        if days < 0:
            raise CommandError(f"prune_task_history: --days must be 0 or more, not {days}.")
        old = Task.tasks.filter(created_at__lte=timezone.now() - timedelta(days=days))
        deleted = 0
        try:
            with ProgressBar(self.stderr, "task rows", old.count()) as bar:
                while batch := list(old.values_list("pk", flat=True)[:BATCH]):
                    deleted += Task.tasks.filter(pk__in=batch).delete()[0]
                    bar.update(deleted)
        except DatabaseError as error:
            raise CommandError(f"prune_task_history: could not delete old task rows ({type(error).__name__}); "
                               f"{deleted} deleted.") from error
        self.stdout.write(f"prune_task_history: deleted {deleted} task row(s) older than {days} days")
