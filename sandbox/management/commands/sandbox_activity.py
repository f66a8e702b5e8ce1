from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.activity import emit_activity
from unipulse.progress import progress


class Command(BaseCommand):
    help = ("Sandbox only: post new fan comments and DMs on every sandbox Page whose webhooks are installed, and "
            "TikTok publish events, to this server's webhook endpoints with valid signatures.")

    def add_arguments(self, parser):
        parser.add_argument("--comments", type=int, default=1, help="Comments per Page and Instagram account.")
        parser.add_argument("--dms", type=int, default=1, help="Direct messages per Page and Instagram account.")

    def handle(self, *args, comments: int, dms: int, **options):
        if not settings.SOCIAL_SANDBOX:
            raise CommandError("The sandbox is off (SOCIAL_SANDBOX); there is nothing to emit.")
        summary = emit_activity(comments=max(comments, 0), dms=max(dms, 0),
                                track=lambda pages: progress(pages, self.stderr, "Pages"))
        if summary.failed:
            raise CommandError(summary.line())
        self.stdout.write(summary.line())
