"""Re-encrypt every stored token from the previous ENCRYPTION_KEY to the current one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction

from social.crypto import TokenCipher, UndecryptableError, current_cipher
from social.fields import EncryptedTokenField
from social.models import SocialAccount

TOKEN_COLUMNS = ("access_token", "refresh_token")


@dataclass
class RotationReport:
    accounts: int = 0
    rotated: int = 0        # token values re-encrypted from the old key
    already_current: int = 0
    unreadable: list[int] = field(default_factory=list)  # account ids, left untouched
    # Other encrypted secrets (e.g. webhook signing secrets): rows re-encrypted, and "app.Model id" unreadable.
    other_rotated: int = 0
    other_unreadable: list[str] = field(default_factory=list)


def rotate_tokens(old: TokenCipher, *, dry_run: bool = False, batch_size: int = 500,
                  progress: Callable[[int, int], None] | None = None) -> RotationReport:
    """Re-encrypt tokens written with `old` under the current key, batch by batch, each batch atomic.

    Reads raw ciphertext (never through the model field), so a token that decrypts with neither key
    is reported and its bytes are left exactly as they were.
    """
    new = current_cipher()
    report = RotationReport()
    ids = list(SocialAccount.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        with transaction.atomic():
            locked = list(SocialAccount.objects.filter(pk__in=batch).select_for_update().values_list("pk", flat=True))
            for pk, *cipher_texts in _raw(locked):
                report.accounts += 1
                updates, unreadable = _reencrypt(cipher_texts, old, new, report)
                if unreadable:
                    report.unreadable.append(pk)
                elif updates and not dry_run:
                    _write_raw(pk, updates)
        if progress:
            progress(min(start + batch_size, len(ids)), len(ids))
    for model, columns in encrypted_models():
        if model is not SocialAccount:
            _rotate_model(model, columns, old, new, report, dry_run)
    return report


def encrypted_models() -> list[tuple[type, list[str]]]:
    """Every installed model with an EncryptedTokenField, and those columns: found, not listed, so a new
    secret anywhere is rotated too (the tokens app imports no other domain app)."""
    found = []
    for model in apps.get_models():
        columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTokenField)]
        if columns:
            found.append((model, columns))
    return found


def _rotate_model(model, columns: list[str], old, new, report: RotationReport, dry_run: bool) -> None:
    table, label = model._meta.db_table, model._meta.label
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id FOR UPDATE"  # noqa: S608
                       if connection.vendor == "postgresql" else
                       f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id")  # noqa: S608
        rows = cursor.fetchall()
        for pk, *values in rows:
            counts = RotationReport()
            updates, unreadable = _reencrypt([_bytes(v) for v in values], old, new, counts, columns)
            if unreadable:
                report.other_unreadable.append(f"{label} {pk}")
            elif updates:
                report.other_rotated += 1
                if not dry_run:
                    sets = ", ".join(f"{column} = %s" for column in updates)
                    cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*updates.values(), pk])  # noqa: S608


def _raw(pks: list[int]):
    # The model field decrypts on read; rotation needs the stored bytes themselves.
    table = SocialAccount._meta.db_table
    with connection.cursor() as cursor:
        placeholders = ",".join(["%s"] * len(pks)) or "NULL"
        cursor.execute(f"SELECT id, access_token, refresh_token FROM {table} WHERE id IN ({placeholders}) ORDER BY id", pks)  # noqa: S608
        return [(pk, _bytes(a), _bytes(r)) for pk, a, r in cursor.fetchall()]


def _bytes(value):
    return bytes(value) if value is not None else None


def _reencrypt(cipher_texts, old, new, report, columns=TOKEN_COLUMNS) -> tuple[dict, bool]:
    updates = {}
    for column, data in zip(columns, cipher_texts, strict=True):
        if data is None:
            continue
        try:
            new.decrypt(data)
            report.already_current += 1
            continue
        except UndecryptableError:
            pass
        try:
            plaintext = old.decrypt(data)
        except UndecryptableError:
            return {}, True
        updates[column] = new.encrypt(plaintext)
        report.rotated += 1
    return updates, False


def _write_raw(pk: int, updates: dict) -> None:
    table = SocialAccount._meta.db_table
    sets = ", ".join(f"{column} = %s" for column in updates)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*updates.values(), pk])  # noqa: S608
