import sys

from django.core.management.base import BaseCommand, CommandError

from analytics.actors import analytics_sync
from social.models import Platform, SocialAccount
from unipulse.broker import drain_embedded


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
        for done, account_id in enumerate(ids, start=1):
            if not dry_run:
                analytics_sync.send(account_id)
            self._progress(done, len(ids))
        if sys.stderr.isatty() and ids:
            self.stderr.write("")
        verb = "would enqueue" if dry_run else "enqueued"
        self.stdout.write(f"sync_analytics: {verb} {len(ids)} account syncs")
        if ids and not dry_run:
            drain_embedded()  # no-op with Redis; with the in-process broker, run them before exiting

    def _progress(self, done: int, total: int) -> None:
        if sys.stderr.isatty():
            width = 30
            filled = width * done // total
            self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} accounts", ending="")
