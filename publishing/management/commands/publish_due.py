from django.core.management.base import BaseCommand
from django.db import transaction

from publishing import services
from unipulse.broker import drain_embedded


class Command(BaseCommand):
    help = "Queue every scheduled post target whose time has come (cron: every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--no-drain", action="store_true", help="Embedded broker: do not run the jobs before exiting.")

    def handle(self, *args, **options):
        with transaction.atomic():
            queued = services.enqueue_due_targets()
        self.stdout.write(f"publish_due: queued {len(queued)} target(s)" + (f": {', '.join(map(str, queued))}" if queued else ""))
        if queued and not options["no_drain"]:
            drain_embedded()
