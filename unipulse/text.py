"""Text and JSON from outside, made safe to store: NUL characters, lone surrogates, nesting depth.

PostgreSQL refuses NUL (U+0000) in text and jsonb, and a lone surrogate (U+D800..U+DFFF) cannot be
encoded as UTF-8 by any driver, so either one turned a request into a 500. SQLite stores both, so
the same input behaved differently per database. The rule, the same on both:
- API input (JSON bodies, forms, query parameters) is refused with a 400 naming the field: the client
  can fix what it sends, and silently changing a user's text is worse than saying so.
- Webhook payloads and platform answers are cleaned (NUL dropped, a lone surrogate becomes U+FFFD):
  the platform will not send them differently, and the comment must still reach the inbox.
"""

from __future__ import annotations

import json
import re

from django.conf import settings

UNSAFE = re.compile("[\x00\ud800-\udfff]")
UNSAFE_MESSAGE = "Contains a NUL character or an unpaired surrogate (e.g. \\u0000, \\ud800); remove it."


class JsonTooDeepError(ValueError):
    """Nested deeper than JSON_MAX_DEPTH (or deep enough to exhaust the parser's recursion limit)."""


def has_unsafe_text(text: str) -> bool:
    return UNSAFE.search(text) is not None


def clean_text(text: str) -> str:
    """NUL removed, each lone surrogate replaced by U+FFFD; anything else unchanged."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", text)


def clean_json(value):
    """The same JSON value with clean_text() applied to every string and every key."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(key): clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    return value


def unsafe_text_paths(value, prefix: str = "") -> list[str]:
    """Dotted paths ("options.tiktok.title", "media.0.url") of every string or key that has_unsafe_text()."""
    found: list[str] = []
    stack = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if has_unsafe_text(item):
                found.append(path or "non_field_errors")
        elif isinstance(item, dict):
            for key, child in item.items():
                key_path = f"{path}.{clean_text(str(key))}" if path else clean_text(str(key))
                if isinstance(key, str) and has_unsafe_text(key):
                    found.append(key_path)
                stack.append((key_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{index}" if path else str(index), child) for index, child in enumerate(item))
    return sorted(set(found))


def json_depth(value) -> int:
    """How deeply arrays and objects nest (a scalar is 0, `[]` is 1). Iterative: no recursion limit."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_limited(data: str | bytes, max_depth: int | None = None):
    """json.loads, refusing documents nested deeper than JSON_MAX_DEPTH with JsonTooDeepError.

    Python's parser recurses per level and raises RecursionError near 1000 levels; that is turned
    into the same JsonTooDeepError, so a body of tens of thousands of `[` is a clear refusal.
    Raises ValueError for anything that is not JSON.
    """
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    try:
        value = json.loads(data)
    except RecursionError:
        raise JsonTooDeepError(f"JSON nested deeper than {max_depth} levels.") from None
    # Every array or object opens with a bracket, so a text with no more brackets than max_depth cannot nest
    # deeper (brackets inside strings only make the count larger): the walk is skipped for most documents.
    opening = data.count("{") + data.count("[") if isinstance(data, str) else data.count(b"{") + data.count(b"[")
    if opening > max_depth and json_depth(value) > max_depth:
        raise JsonTooDeepError(f"JSON nested deeper than {max_depth} levels.")
    return value
