"""The API's body parsers: DRF's, refusing what would otherwise end in a 500 further down.

- JSON nested deeper than JSON_MAX_DEPTH: 400 (DRF's parser raised RecursionError on deep input).
- A NUL character or a lone surrogate in any string or key (JSON, form or multipart field): 400 naming
  the field, on every database alike (see unipulse.text for why API input is refused, not cleaned).
"""

from __future__ import annotations

import codecs

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from .text import UNSAFE_MESSAGE, loads_limited, unsafe_text_paths


def refuse_unsafe_text(data) -> None:
    """ValidationError naming every field (dotted path) whose text holds a NUL or a lone surrogate."""
    paths = unsafe_text_paths(data)
    if paths:
        raise ValidationError({path: [UNSAFE_MESSAGE] for path in paths})


def _form_fields(data) -> dict[str, str]:
    """Each form field's values as one string, so an error names the field (not "username.0")."""
    return {key: "".join(value for value in data.getlist(key) if isinstance(value, str)) for key in data}


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = loads_limited(text)
        except ValueError as exc:  # not JSON, not in its charset, or too deep (JsonTooDeepError)
            raise ParseError(f"JSON parse error - {exc}")
        if self.strict and _has_non_finite(data):
            raise ParseError("JSON parse error - NaN and Infinity are not valid JSON.")
        refuse_unsafe_text(data)
        return data


def _has_non_finite(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and (item != item or item in (float("inf"), float("-inf"))):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_unsafe_text(_form_fields(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        refuse_unsafe_text(_form_fields(result.data))
        return result
