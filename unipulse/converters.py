"""Database ids from outside: `<id:pk>` in URLs, and `id_field()` in query strings and bodies.

Longer digit runs than a bigint can hold are a 404 in a URL and a 400 in a filter or a body, never a
500 (SQLite cannot even bind an integer past 2**63 - 1)."""

from django.urls import register_converter
from rest_framework import serializers

ID_REGEX = "[0-9]{1,18}"
MAX_ID = 2**63 - 1


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def id_field(**kwargs) -> serializers.IntegerField:
    """A serializer field for a database id: a positive integer a bigint can hold."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


register_converter(IdConverter, "id")
