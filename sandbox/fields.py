"""Graph field expansion: `id,comments.filter(stream).limit(5){id,from{id,name}},insights.metric(a,b)`.

Ref: https://developers.facebook.com/docs/graph-api/field-expansion/
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Field:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)  # limit, summary, filter, order, metric, type…
    children: list[Field] | None = None  # None: no {...} given, use the node's default fields


class FieldSyntaxError(ValueError):
    pass


def parse_fields(spec: str) -> list[Field]:
    """Parse a `fields=` value; raises FieldSyntaxError on unbalanced brackets."""
    fields, pos = _parse_list(spec.replace(" ", ""), 0)
    if pos != len(spec.replace(" ", "")):
        raise FieldSyntaxError(f"Syntax error at character {pos}")
    return fields


def _parse_list(text: str, pos: int) -> tuple[list[Field], int]:
    fields: list[Field] = []
    while pos < len(text) and text[pos] != "}":
        item, pos = _parse_field(text, pos)
        if item.name:
            fields.append(item)
        if pos < len(text) and text[pos] == ",":
            pos += 1
    return fields, pos


def _parse_field(text: str, pos: int) -> tuple[Field, int]:
    start = pos
    while pos < len(text) and text[pos] not in ".{},(":
        pos += 1
    item = Field(name=text[start:pos])
    while pos < len(text) and text[pos] == ".":
        pos += 1
        mstart = pos
        while pos < len(text) and text[pos] != "(":
            pos += 1
        name = text[mstart:pos]
        end = text.find(")", pos)
        if end < 0:
            raise FieldSyntaxError(f"Unclosed modifier {name}")
        item.modifiers[name] = text[pos + 1:end]
        pos = end + 1
    if pos < len(text) and text[pos] == "{":
        item.children, pos = _parse_list(text, pos + 1)
        if pos >= len(text) or text[pos] != "}":
            raise FieldSyntaxError("Unclosed {")
        pos += 1
    return item, pos
