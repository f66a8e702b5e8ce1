"""CSV bulk import of posts (POST /api/v1/posts/import/).

Each row is turned into the body a single POST /api/v1/posts/ takes and checked by the same
PostInputSerializer and the same platform checks (`posts.platform_errors`), so an import can never accept
what the composer refuses, nor the other way round. What this module checks itself is only what the CSV
format adds: the columns, the media cell (a URL and its kind), the time cell (an offset, or `next slot`).

Idempotent per file and row: each post created carries the key `import:<file sha256>:<row>` in the
database's per-workspace unique `idempotency_key`, so the same file sent again (or twice at once) makes
each post once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from unipulse.api_errors import ApiError
from unipulse.platform_errors import PlatformError
from unipulse.text import has_unsafe_text
from workspaces.models import Membership
from workspaces.services import record

from ..models import Post
from ..serializers import PostInputSerializer
from . import posts, validation

IMPORT_KEY_PREFIX = "import:"  # single posts may not use it (publishing.api.idempotency_key_of)
COLUMNS = ("text", "link", "media", "accounts", "time", "first_comment", "instagram_kind", "tiktok_privacy_level",
           "options")
REQUIRED = ("accounts", "time")
NEXT_SLOT = ("next slot", "next free slot", "next_slot", "next_free_slot")
PUBLISH_NOW = "now"
SEPARATORS = re.compile(r"[\s,;|]+")
ITEM = re.compile(r"^(media|accounts)\.(\d+)")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm", ".m4v")
# A field of the post body -> the CSV column a person fixes.
COLUMN_OF = {"text": "text", "link": "link", "media": "media", "accounts": "accounts", "scheduled_at": "time",
             "next_free_slot": "time", "first_comment": "first_comment", "options.instagram.kind": "instagram_kind",
             "options.tiktok.privacy_level": "tiktok_privacy_level", "recurrence": "time"}


class ImportRefusedError(ApiError):
    """`all_or_nothing` and at least one row has errors: nothing was created. Carries the report."""

    def __init__(self, report: dict) -> None:
        bad = len({e["row"] for e in report["errors"]})
        super().__init__("import_invalid", f"{bad} row(s) have errors, so nothing was imported (all_or_nothing): "
                         "fix them (see report.errors), or import without all_or_nothing to create the valid rows.", 400)
        self.report = report


@dataclass
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    body: dict  # what a single POST /api/v1/posts/ would send
    errors: dict[str, list[str]] = field(default_factory=dict)  # column -> what the CSV format itself refuses


def file_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def import_key(digest: str, row: int) -> str:
    return f"{IMPORT_KEY_PREFIX}{digest}:{row}"


def read_csv(raw: bytes) -> list[Row]:
    """The file's rows as post bodies. ApiError 413 over the size or row limit, 400 for what is not our CSV."""
    if len(raw) > settings.SCHEDULING_IMPORT_MAX_BYTES:
        raise ApiError("import_too_large", f"The file is larger than {filesizeformat(settings.SCHEDULING_IMPORT_MAX_BYTES)}"
                       f" (SCHEDULING_IMPORT_MAX_BYTES): split it into smaller files.", 413)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError("invalid_csv", "The file is not UTF-8 text: save the CSV as UTF-8 and send it again.", 400) from None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise ApiError("invalid_csv", f"The file is not a readable CSV ({error}).", 400) from None
    header = [name.strip().lower() for name in records[0]] if records else []
    _check_header(header)
    rows = [(number, cells) for number, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)]
    if len(rows) > settings.SCHEDULING_IMPORT_MAX_ROWS:
        raise ApiError("import_too_large", f"The file has {len(rows)} posts; at most {settings.SCHEDULING_IMPORT_MAX_ROWS} "
                       "can be imported at once (SCHEDULING_IMPORT_MAX_ROWS): split it into smaller files.", 413)
    parsed = []
    for number, cells in rows:
        row = row_body(number, dict(zip(header, cells, strict=False)))
        if any(extra.strip() for extra in cells[len(header):]):
            row.errors[""] = [f"This row has {len(cells)} cells but the header names {len(header)} columns: quote a "
                              'cell that holds a comma ("a, b").']
        parsed.append(row)
    return parsed


def _check_header(header: list[str]) -> None:
    if not header or not any(header):
        raise ApiError("invalid_csv", "The file is empty: its first line names the columns, e.g. "
                       f"{','.join(COLUMNS[:5])}.", 400)
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    problems = ([f"unknown column(s) {', '.join(repr(n) for n in unknown)}"] if unknown else []) + \
        ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
        ([f"column(s) named twice: {', '.join(duplicated)}"] if duplicated else [])
    if problems:
        raise ApiError("invalid_csv", f"The header line has {'; '.join(problems)}. The columns are: "
                       f"{', '.join(COLUMNS)} ({' and '.join(REQUIRED)} required).", 400)


def row_body(number: int, cells: dict[str, str]) -> Row:
    """One CSV row as the body of a single post, and what the CSV format refuses in it."""
    row = Row(number, {})
    for column, value in cells.items():
        if has_unsafe_text(value):
            row.errors.setdefault(column, []).append("Contains a NUL character or an unpaired surrogate; remove it.")
            cells[column] = ""
    body = row.body
    for name in ("text", "link", "first_comment"):
        if cells.get(name):
            body[name] = cells[name].strip() if name == "link" else cells[name]
    body["accounts"] = [a for a in SEPARATORS.split(cells.get("accounts", "")) if a]
    body["media"] = _media(cells.get("media", ""), row)
    _time(cells.get("time", "").strip(), row)
    options = _options(cells.get("options", ""), row)
    if cells.get("instagram_kind", "").strip():
        options.setdefault("instagram", {})["kind"] = cells["instagram_kind"].strip()
    if cells.get("tiktok_privacy_level", "").strip():
        options.setdefault("tiktok", {})["privacy_level"] = cells["tiktok_privacy_level"].strip()
    if options:
        body["options"] = options
    return row


def _media(cell: str, row: Row) -> list[dict]:
    """`URL URL ...`, each optionally `image:URL` or `video:URL` when its extension does not say."""
    items = []
    for token in cell.split():
        kind, _, rest = token.partition(":")
        if kind in ("image", "video") and rest:
            items.append({"url": rest, "type": kind})
            continue
        path = token.split("?", 1)[0].split("#", 1)[0].lower()
        kind = "image" if path.endswith(IMAGE_EXTENSIONS) else "video" if path.endswith(VIDEO_EXTENSIONS) else ""
        if kind:
            items.append({"url": token, "type": kind})
        else:
            row.errors.setdefault("media", []).append(
                f"Say whether {token[:200]} is an image or a video: write image:URL or video:URL.")
    return items


def _time(cell: str, row: Row) -> None:
    if cell.lower() in NEXT_SLOT:
        row.body["next_free_slot"] = True
    elif cell.lower() == PUBLISH_NOW:
        pass  # no time: published as soon as it is created, like a single post without scheduled_at
    elif not cell:
        row.errors["time"] = ["Give an ISO 8601 time with its offset (2026-12-07T09:00:00+01:00), `next slot`, or `now`."]
    else:
        try:
            parsed = datetime.fromisoformat(cell)
        except ValueError:
            row.errors["time"] = [f"{cell[:100]!r} is not an ISO 8601 time: write e.g. 2026-12-07T09:00:00+01:00, or "
                                  "`next slot`."]
            return
        if parsed.tzinfo is None:
            row.errors["time"] = [f"Give {cell[:100]} with its offset (e.g. {cell[:19]}+01:00, or Z for UTC), so it "
                                  "means one moment."]
            return
        row.body["scheduled_at"] = cell


def _options(cell: str, row: Row) -> dict:
    if not cell.strip():
        return {}
    try:
        value = json.loads(cell)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        row.errors["options"] = ['Write the options as a JSON object per platform, e.g. {"tiktok": {"disable_duet": true}}.']
        return {}
    return value


def creator_info_once() -> Callable:
    """validation.fresh_creator_info asked at most once per account for this import (its failure too)."""
    seen: dict[int, object] = {}

    def info_of(account):
        if account.pk not in seen:
            try:
                seen[account.pk] = validation.fresh_creator_info(account)
            except PlatformError as error:
                seen[account.pk] = error
        if isinstance(seen[account.pk], PlatformError):
            raise seen[account.pk]
        return seen[account.pk]

    return info_of


def check_row(row: Row, context: dict, info_of: Callable) -> tuple[dict | None, list[dict]]:
    """(validated data, []) when the row may be created, else (None, its errors as {row, column, message})."""
    serializer = PostInputSerializer(data=row.body, context=context)
    errors: dict[str, list[str]] = {}
    if serializer.is_valid():
        errors = posts.platform_errors(serializer.validated_data, serializer.validated_data["accounts"], info_of)
    else:
        errors = _flatten(serializer.errors)
    by_column: dict[str, list[str]] = {column: list(messages) for column, messages in row.errors.items()}
    for key, messages in errors.items():
        column = _column_of(key)
        if column not in row.errors:  # the CSV's own message on that column says it better
            item = ITEM.match(key)
            prefix = f"{'Media item' if item[1] == 'media' else 'Account'} {int(item[2]) + 1}: " if item else ""
            by_column.setdefault(column, []).extend(f"{prefix}{message}" for message in messages)
    found = [{"row": row.number, "column": column, "message": str(message)}
             for column, messages in by_column.items() for message in messages]
    return (serializer.validated_data if not found else None), found


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors ({"media": [{}, {"url": [...]}]}) as {"media.1.url": [...]}."""
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list) and errors and all(isinstance(e, dict | list) for e in errors):
        items = ((str(i), e) for i, e in enumerate(errors))
    else:
        return {prefix or "non_field_errors": [str(e) for e in errors]} if errors else {}
    flat: dict[str, list[str]] = {}
    for key, value in items:
        for path, messages in _flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
            flat.setdefault(path, []).extend(messages)
    return flat


def _column_of(key: str) -> str:
    if key in COLUMN_OF:
        return COLUMN_OF[key]
    head = key.split(".", 1)[0]
    if head == "options":
        return "options"
    return COLUMN_OF.get(head, "")  # "": the row as a whole (non_field_errors)


def import_posts(membership: Membership, raw: bytes, context: dict, dry_run: bool = False,
                 all_or_nothing: bool = False) -> dict:
    """Check every row of a CSV and, unless `dry_run`, create the valid rows' posts in one transaction.

    Rows this file already created (same file, same row) are reported, never created again. With
    `all_or_nothing`, a row with errors means no post at all (ImportRefusedError, 400). Editors' posts
    wait for approval as single posts do. Raises ApiError 413/400 for a file that is too large or not
    our CSV format.
    """
    rows = read_csv(raw)
    digest = file_digest(raw)
    done = dict(Post.objects.filter(workspace=membership.workspace, idempotency_key__startswith=f"{IMPORT_KEY_PREFIX}{digest}:")
                .values_list("idempotency_key", "pk"))
    info_of = creator_info_once()
    report = {"dry_run": dry_run, "file_sha256": digest, "rows": len(rows), "valid_rows": 0, "created": [],
              "already_imported": [], "errors": []}
    valid: list[tuple[Row, dict]] = []
    for row in rows:
        if import_key(digest, row.number) in done:
            report["already_imported"].append({"row": row.number, "post": done[import_key(digest, row.number)]})
            continue
        data, errors = check_row(row, context, info_of)
        report["errors"].extend(errors)
        if data is not None:
            valid.append((row, data))
    report["valid_rows"] = len(valid)
    if dry_run:
        return report
    if all_or_nothing and report["errors"]:
        raise ImportRefusedError(report)
    with transaction.atomic():
        for row, data in valid:
            post, created = posts.create_post_once(membership, data, import_key(digest, row.number), digest, info_of)
            report["created" if created else "already_imported"].append({"row": row.number, "post": post.pk})
        if report["created"]:
            record(membership.workspace_id, membership.user, "posts.imported", None,
                   f"Imported {len(report['created'])} post(s) from a CSV of {len(rows)} row(s) (sha256 {digest[:12]}…).")
    return report

