from django.core.management.base import BaseCommand

from tokens.actors import token_refresh
from tokens.services import select_due_account_ids
from unipulse.broker import drain_embedded, send_each
from unipulse.progress import progress


class Command(BaseCommand):
    help = "Enqueue a token refresh for every active account whose token is due (cron: every 15 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="Only this account id (enqueued even if not yet due).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be enqueued; send nothing.")

    def handle(self, *args, account=None, dry_run=False, **options):
        ids = select_due_account_ids(account_id=account)
        if dry_run:
            for account_id in progress(ids, self.stderr, "accounts"):
                self.stdout.write(f"would refresh account {account_id}")
        else:
            # A named account is forced: refreshed even when not due.
            send_each("refresh_tokens", token_refresh, ids, self.stderr, "accounts",
                      extra_args=(True,) if account is not None else ())
        verb = "would enqueue" if dry_run else "enqueued"
        self.stdout.write(f"refresh_tokens: {verb} {len(ids)} token refresh{'es' if len(ids) != 1 else ''}")
        if not dry_run and ids:
            drain_embedded()
