"""Business logic of the tokens app (plain functions; see STYLE.md)."""


def refresh_account_token(account_id: int) -> None:
    """Refresh one account's token. Implemented by the token-refresh issue."""
    raise NotImplementedError("token refresh lands with the 'Tokens stay alive' issue")


def ensure_fresh(account) -> None:
    """Refresh `account`'s token first if it is about to expire. Implemented by the token-refresh issue."""
    return None
