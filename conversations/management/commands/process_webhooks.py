from django.core.management.base import BaseCommand

from conversations import services
from unipulse.broker import drain_embedded
from unipulse.progress import progress


class Command(BaseCommand):
    help = ("Enqueue every stored webhook event not processed yet: still waiting (e.g. after a broker outage) "
            "or failed with attempts left (WEBHOOK_MAX_ATTEMPTS).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count the events.")

    def handle(self, *args, dry_run: bool = False, **options):
        waiting = services.get_waiting_webhook_events()
        event_ids = waiting.ids
        sent = 0 if dry_run else sum(services.enqueue_webhook_event(event_id)
                                      for event_id in progress(event_ids, self.stderr, "enqueued"))
        if not dry_run:
            drain_embedded()
        retried = f" ({len(waiting.failed)} of them failed before)" if waiting.failed else ""
        self.stdout.write(f"process_webhooks: {len(event_ids)} waiting, {sent} enqueued{retried}")
