from django.core.management.base import BaseCommand

from conversations import services
from conversations.actors import webhook_process
from unipulse.broker import drain_embedded, send_each


class Command(BaseCommand):
    help = ("Enqueue every stored webhook event not processed yet: still waiting (e.g. after a broker outage) "
            "or failed with attempts left (WEBHOOK_MAX_ATTEMPTS).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count the events.")

    def handle(self, *args, dry_run: bool = False, **options):
        waiting = services.get_waiting_webhook_events()
        event_ids = waiting.ids
        sent = 0
        if not dry_run:
            # The first refusal (the broker is down) stops the run with one line, as every enqueue command
            # does: the rest would fail the same way. The events stay as they were, for the next run.
            try:
                sent = send_each("process_webhooks", webhook_process, event_ids, self.stderr, "events")
            finally:
                drain_embedded()
        retried = f" ({len(waiting.failed)} of them failed before)" if waiting.failed else ""
        self.stdout.write(f"process_webhooks: {len(event_ids)} waiting, {sent} enqueued{retried}")
