"""Small admin behaviours the apps share."""

from __future__ import annotations


class FromPlatformsMixin:
    """Rows that only the platforms create (through OAuth, webhooks, polls or syncs): no "Add" button.

    A row typed in by hand would name ids no platform knows; the rows stay editable where they were.
    """

    def has_add_permission(self, request, obj=None) -> bool:  # `obj`: inlines are asked with their parent
        return False
