"""Business logic of the analytics app (plain functions; see STYLE.md)."""


def sync_account(account_id: int) -> None:
    raise NotImplementedError("analytics sync lands with the analytics issue")
