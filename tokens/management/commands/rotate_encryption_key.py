from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from social.crypto import KeyFormatError, TokenCipher
from tokens.rotation import rotate_tokens
from unipulse.progress import ProgressBar


class Command(BaseCommand):
    help = "Re-encrypt every stored token from the previous ENCRYPTION_KEY (or --old-key) to the current one."

    def add_arguments(self, parser):
        parser.add_argument("--old-key", help="The previous key (default: ENCRYPTION_KEY_PREVIOUS).")
        parser.add_argument("--dry-run", action="store_true", help="Decrypt and count only; write nothing.")
        parser.add_argument("--batch-size", type=int, default=500, help="Accounts per transaction (default 500).")

    def handle(self, *args, old_key=None, dry_run=False, batch_size=500, **options):
        old_key = old_key or settings.ENCRYPTION_KEY_PREVIOUS
        if not old_key:
            raise CommandError("Give the previous key with --old-key or ENCRYPTION_KEY_PREVIOUS.")
        try:
            old = TokenCipher(old_key)
        except KeyFormatError as exc:
            raise CommandError(f"The old key {exc}.") from None
        bar: ProgressBar | None = None

        def advance(done: int, total: int) -> None:  # called after each batch
            nonlocal bar
            bar = bar or ProgressBar(self.stderr, "accounts", total)
            bar.update(done)

        report = rotate_tokens(old, dry_run=dry_run, batch_size=batch_size, progress=advance)
        if bar:
            bar.close()
        for pk in report.unreadable:
            self.stderr.write(f"account {pk}: a token decrypts with neither key; left untouched")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{report.accounts} accounts: {verb} {report.rotated} tokens, {report.already_current} already on the "
            f"current key, {len(report.unreadable)} accounts unreadable"
        )
        for label in report.other_unreadable:
            self.stderr.write(f"{label}: a secret decrypts with neither key; left untouched")
        if report.other_rotated or report.other_unreadable:
            self.stdout.write(f"other secrets (webhook signing secrets): {verb} {report.other_rotated} row(s), "
                              f"{len(report.other_unreadable)} unreadable")
        if report.unreadable:
            raise CommandError(f"{len(report.unreadable)} accounts hold tokens that neither key decrypts.")
        if report.other_unreadable:
            raise CommandError(f"{len(report.other_unreadable)} other secrets decrypt with neither key.")
