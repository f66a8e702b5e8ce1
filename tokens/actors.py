import dramatiq

from unipulse.jobs import QUEUE_POLICY, run_platform_job


@dramatiq.actor(queue_name="token-refresh", **QUEUE_POLICY["token-refresh"])
def token_refresh(account_id: int, force: bool = False) -> None:
    """Refresh one account's token under a row lock (tokens.services.refresh_account_token).

    `force` (`refresh_tokens --account ID`) refreshes even when the account is not due yet.
    """
    from . import services

    run_platform_job(token_refresh, (account_id, force), services.refresh_account_token)
