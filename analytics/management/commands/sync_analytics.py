from django.core.management.base import BaseCommand, CommandError

from analytics.actors import analytics_sync
from social.models import Platform, SocialAccount
from unipulse.broker import drain_embedded, send_each


class Command(BaseCommand):
    help = "Enqueue one analytics sync per active account (or only --account / --platform)."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="Only this account id.")
        parser.add_argument("--platform", choices=Platform.values, help="Only accounts on this platform.")
        parser.add_argument("--dry-run", action="store_true", help="Count the accounts; enqueue nothing.")

    def handle(self, *args, account=None, platform=None, dry_run=False, **options):
        accounts = SocialAccount.objects.active()
        if account is not None:
            accounts = accounts.filter(pk=account)
            if not accounts.exists():
                raise CommandError(f"No active account with id {account}.")
        if platform:
            accounts = accounts.filter(platform=platform)
        ids = list(accounts.order_by("id").values_list("id", flat=True))
        if not dry_run:
            send_each("sync_analytics", analytics_sync, ids, self.stderr, "accounts")
        verb = "would enqueue" if dry_run else "enqueued"
        self.stdout.write(f"sync_analytics: {verb} {len(ids)} account syncs")
        if ids and not dry_run:
            drain_embedded()  # no-op with Redis; with the in-process broker, run them before exiting
