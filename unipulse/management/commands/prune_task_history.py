from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django_dramatiq.models import Task


class Command(BaseCommand):
    help = "Delete background-task history older than DRAMATIQ_TASK_HISTORY_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep this many days of history.")

    def handle(self, *args, days=None, **options):
        days = settings.DRAMATIQ_TASK_HISTORY_DAYS if days is None else days
        if days < 0:
            raise CommandError(f"prune_task_history: --days must be 0 or more, not {days}.")
        try:
            deleted, _ = Task.tasks.filter(created_at__lte=timezone.now() - timedelta(days=days)).delete()
        except DatabaseError as error:
            raise CommandError(f"prune_task_history: could not delete old task rows ({type(error).__name__}).") from error
        self.stdout.write(f"prune_task_history: deleted {deleted} task row(s) older than {days} days")
