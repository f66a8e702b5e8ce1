import threading

from django.core.management.base import BaseCommand, CommandError

from unipulse import scheduler


class Command(BaseCommand):
    help = "Run the periodic commands (publish_due, refresh_tokens, ...) at their crontab times; --once runs each now."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once now, whatever the time, and exit.")

    def handle(self, *args, once=False, **options):
        jobs = scheduler.available_jobs()
        self.stdout.write("scheduler: " + ", ".join(f"{j.command} ({j.cron})" for j in jobs))
        if once:
            ran = scheduler.run_jobs(jobs)
            failed = [j.command for j in jobs if j.command not in ran]
            if failed:  # each one's error is logged by the scheduler
                raise CommandError(f"scheduler: ran {len(ran)} commands; failed: {', '.join(failed)}.")
            self.stdout.write(f"scheduler: ran {len(ran)} commands")
            return
        stop = threading.Event()
        try:
            scheduler.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
            self.stdout.write("scheduler: stopped")
