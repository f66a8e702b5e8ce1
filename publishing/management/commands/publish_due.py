from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from publishing import services
from unipulse.broker import drain_embedded
from unipulse.progress import progress


class Command(BaseCommand):
    help = "Queue every scheduled post target whose time has come (cron: every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--no-drain", action="store_true", help="Embedded broker: do not run the jobs before exiting.")

    def handle(self, *args, **options):
        refused: list[int] = []
        try:
            with transaction.atomic():  # the messages are sent when this commits
                queued = services.enqueue_due_targets(track=lambda ids: progress(ids, self.stderr, "targets"),
                                                      refused=refused)
        except Exception as error:  # noqa: BLE001 - the database; named by type, no row data
            raise CommandError(f"publish_due: could not queue the due targets ({type(error).__name__}).") from error
        if refused:
            raise CommandError(f"publish_due: the broker refused {len(refused)} of {len(queued)} target(s); they are "
                               "scheduled again for the next run.")
        self.stdout.write(f"publish_due: queued {len(queued)} target(s)" + (f": {', '.join(map(str, queued))}" if queued else ""))
        if queued and not options["no_drain"]:
            drain_embedded()
