from django.core.management.base import BaseCommand

from conversations.actors import ice_process
from conversations.platforms import inbox_platforms
from social.models import SocialAccount
from unipulse.broker import drain_embedded, send_each


class Command(BaseCommand):
    help = "Enqueue an incremental comment and DM poll for every active account that has an inbox API."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count the accounts.")

    def handle(self, *args, dry_run: bool = False, **options):
        account_ids = list(SocialAccount.objects.active().filter(platform__in=inbox_platforms())
                           .order_by("id").values_list("id", flat=True))
        if not dry_run:
            send_each("sync_conversations", ice_process, account_ids, self.stderr, "accounts")
            drain_embedded()
        self.stdout.write(f"sync_conversations: {len(account_ids)} account(s) {'found' if dry_run else 'enqueued'}")
