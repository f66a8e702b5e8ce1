from django.core.management.base import BaseCommand, CommandError

from conversations import services
from unipulse.broker import drain_embedded
from unipulse.progress import ProgressBar


class Command(BaseCommand):
    help = ("Enqueue every stored webhook event not processed yet: still waiting (e.g. after a broker outage) "
            "or failed with attempts left (WEBHOOK_MAX_ATTEMPTS).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count the events.")

    def handle(self, *args, dry_run: bool = False, **options):
        waiting = services.get_waiting_webhook_events()
        event_ids = waiting.ids
        sent, refused = 0, False
        if not dry_run:
            with ProgressBar(self.stderr, "events", len(event_ids)) as bar:
                for event_id in event_ids:
                    # A refusal means the broker is down (enqueue_webhook_event logs it): the rest would
                    # fail the same way, one connect timeout each, so stop. They stay as they were.
                    if not services.enqueue_webhook_event(event_id):
                        refused = True
                        break
                    sent += 1
                    bar.advance()
            drain_embedded()
        retried = f" ({len(waiting.failed)} of them failed before)" if waiting.failed else ""
        line = f"process_webhooks: {len(event_ids)} waiting, {sent} enqueued{retried}"
        if refused:
            raise CommandError(f"{line}; the broker refused the next one, the rest stay for the next run.")
        self.stdout.write(line)
