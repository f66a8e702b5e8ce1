from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.activity import emit_activity
from unipulse.progress import progress


class Command(BaseCommand):
    help = ("Sandbox only: post new fan comments and DMs on every sandbox Page whose webhooks are installed, and "
            "TikTok publish events, to this server's webhook endpoints with valid signatures.")

    def add_arguments(self, parser):
        parser.add_argument("--comments", type=int, default=None,
                            help="Comments per Page and Instagram account (default 1, 0 with SANDBOX_ACTIVITY off).")
        parser.add_argument("--dms", type=int, default=None,
                            help="Direct messages per Page and Instagram account (default 1, 0 with SANDBOX_ACTIVITY off).")

    def handle(self, *args, comments: int | None, dms: int | None, **options):
        if not settings.SOCIAL_SANDBOX:
            raise CommandError("The sandbox is off (SOCIAL_SANDBOX); there is nothing to emit.")
        # The scheduler runs it without arguments: SANDBOX_ACTIVITY decides; numbers given by hand always count.
        default = 1 if settings.SANDBOX_ACTIVITY else 0
        comments, dms = (default if comments is None else comments), (default if dms is None else dms)
        summary = emit_activity(comments=max(comments, 0), dms=max(dms, 0),
                                track=lambda pages: progress(pages, self.stderr, "Pages"))
        if summary.failed:
            raise CommandError(summary.line())
        self.stdout.write(summary.line())
