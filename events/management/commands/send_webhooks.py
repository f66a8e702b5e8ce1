from django.core.management.base import BaseCommand

from events import services
from events.actors import webhook_deliver
from unipulse.broker import drain_embedded, send_each


class Command(BaseCommand):
    help = ("Enqueue every outgoing webhook delivery whose attempt is due: a retry planned for later than a delayed "
            "message waits, a message lost when the broker was down, an attempt whose worker died.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count them.")

    def handle(self, *args, dry_run: bool = False, **options):
        ids = services.due_delivery_ids()
        sent = 0
        if not dry_run:
            try:
                sent = send_each("send_webhooks", webhook_deliver, ids, self.stderr, "deliveries")
            finally:
                drain_embedded()
        self.stdout.write(f"send_webhooks: {len(ids)} due, {sent} enqueued")
