"""Account events (events.catalogue), written in the transaction of the change they report."""

from __future__ import annotations

from unipulse import hooks

from .models import SocialAccount


def account_event(account: SocialAccount, event_type: str) -> None:
    """The account as GET /api/v1/accounts/{id}/ shows it, without the live counters (read from Redis at
    request time, they are not part of the change) and never a token."""
    from .serializers import AccountEventSerializer

    hooks.record_event(account.workspace_id, event_type, {"object": AccountEventSerializer(account).data})
