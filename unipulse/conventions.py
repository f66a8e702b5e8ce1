"""The API's shared conventions in code (docs/api.md): how a datetime is written, and the old names kept
for one deprecation period.

- Every datetime an answer or an event carries is ISO 8601 in UTC with a `Z`, as DRF's DateTimeField
  writes it (`2026-12-03T09:30:00Z`, microseconds when there are some). Code that builds a datetime
  string by hand writes it with `api_datetime()`; a field that is deliberately local says so in its name
  or help text and is written with `local_datetime()` (ISO 8601 with the zone's offset).
- A reference to one of our objects is named after the object (`account`, `post`, `target`,
  `conversation`, `parent`) and holds its integer id; `*_id` names are other systems' identifiers
  (`platform_post_id`, `external_id`). The old `*_id` spellings of our references are still answered
  (`deprecated_alias()`) and, as query parameters, accepted (`AccountFilterSerializer`) until
  DEPRECATED_UNTIL.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from drf_spectacular.utils import OpenApiParameter, extend_schema_serializer
from rest_framework import serializers

from .converters import id_field

# The end of the deprecation period the old names are kept for (docs/api.md, "API changes").
DEPRECATED_UNTIL = "2027-06-01"
DEPRECATED_SINCE = "2026-12-04"
# Old query parameter -> its current name. A request using one gets deprecation_headers() in its answer.
DEPRECATED_QUERY_PARAMETERS = {"account_id": "account"}

_UTC_FIELD = serializers.DateTimeField(default_timezone=UTC)


def api_datetime(value: datetime) -> str:
    """`value` written as every API answer writes a datetime: ISO 8601 in UTC with a Z (DRF's format)."""
    return _UTC_FIELD.to_representation(value)


def local_datetime(value: datetime, zone: tzinfo) -> str:
    """`value` in `zone`, ISO 8601 with the zone's offset (`2026-12-03T15:15:00+05:45`): only for fields that
    are documented as local."""
    return value.astimezone(zone).isoformat()


def deprecated_alias(of: str, source: str | None = None, **kwargs) -> serializers.IntegerField:
    """A read-only field answering the same id as `of` under its old name. List the field's name in the
    serializer's `extend_schema_serializer(deprecate_fields=[...])` so the schema marks it deprecated."""
    if source is not None:
        kwargs["source"] = source
    return serializers.IntegerField(read_only=True, help_text=(
        f"Deprecated: the same id as `{of}`, answered until {DEPRECATED_UNTIL}. Read `{of}`."), **kwargs)


ACCOUNT_ID_PARAMETER = OpenApiParameter(
    "account_id", int, OpenApiParameter.QUERY, deprecated=True,
    description=f"Deprecated spelling of `account`, accepted until {DEPRECATED_UNTIL}.")


@extend_schema_serializer(deprecate_fields=["account_id"])
class AccountFilterSerializer(serializers.Serializer):
    """`?account=`, and its old spelling `?account_id=` (deprecated). Both with different ids is a 400: a
    list is never silently wider or narrower than asked. List views add ACCOUNT_ID_PARAMETER to their
    schema parameters, which marks the parameter itself deprecated."""

    account = id_field(required=False, help_text="Only this account's rows.")
    account_id = id_field(required=False, help_text=ACCOUNT_ID_PARAMETER.description)

    def validate(self, data: dict) -> dict:
        alias = data.pop("account_id", None)
        if alias is not None:
            if data.get("account", alias) != alias:
                raise serializers.ValidationError({"account_id": [
                    "Give `account` (or the deprecated `account_id`), not both with different ids."]})
            data["account"] = alias
        return super().validate(data)


def deprecation_headers(query) -> dict[str, str]:
    """The headers telling a client it used a deprecated query parameter; {} when it used none."""
    used = sorted(name for name in DEPRECATED_QUERY_PARAMETERS if name in query)
    if not used:
        return {}
    since = datetime.fromisoformat(DEPRECATED_SINCE).replace(tzinfo=UTC)
    until = datetime.fromisoformat(DEPRECATED_UNTIL).replace(tzinfo=UTC)
    return {"Deprecation": f"@{int(since.timestamp())}",
            "Sunset": until.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "Link": '</api/v1/docs/>; rel="deprecation"'}  # Swagger UI's front page is docs/api.md
