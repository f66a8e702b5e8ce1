"""Business logic of the conversations app (plain functions; see STYLE.md)."""


def process_webhook_event(event_id: int) -> None:
    raise NotImplementedError("webhook processing lands with the conversations issue")


def sync_account_inbox(account_id: int) -> None:
    raise NotImplementedError("inbox polling lands with the conversations issue")
