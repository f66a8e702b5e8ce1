from django.core.management.base import BaseCommand, CommandError

from social.models import AccountStatus, LoginPath, Platform, SocialAccount
from social.services import subscribe_account_webhooks, subscribe_page_webhooks
from unipulse.progress import progress


class Command(BaseCommand):
    help = ("Re-subscribe every active Facebook Page (and its Instagram accounts) and every Instagram Login account "
            "to the inbox's webhook fields.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count the Pages without calling Meta.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        # No queue of its own (the five queues are fixed), and it is one or two calls per Page a day.
        pages = list(SocialAccount.objects.filter(platform=Platform.FACEBOOK, status=AccountStatus.ACTIVE).order_by("id"))
        ok = failed = 0
        for page in progress(pages, self.stderr, "Pages"):
            if dry_run or not page.has_access_token:
                continue
            if subscribe_page_webhooks(page):
                ok += 1
            else:
                failed += 1
        # Instagram Login accounts have no Page: each is subscribed by itself.
        own = list(SocialAccount.objects.filter(platform=Platform.INSTAGRAM, login_path=LoginPath.INSTAGRAM,
                                                status=AccountStatus.ACTIVE).order_by("id"))
        own_ok = own_failed = 0
        for account in own:
            if dry_run or not account.has_access_token:
                continue
            if subscribe_account_webhooks(account):
                own_ok += 1
            else:
                own_failed += 1
        failed += own_failed
        verb = "would subscribe" if dry_run else "subscribed"
        line = (f"subscribe_webhooks: {verb} {len(pages) if dry_run else ok} Page(s) and "
                f"{len(own) if dry_run else own_ok} Instagram Login account(s); {failed} failed.")
        if failed:  # each failed Page carries the reason in its status reason (admin, accounts API)
            raise CommandError(f"{line} See each account's status reason.")
        self.stdout.write(line)
