import dramatiq

from unipulse.jobs import QUEUE_POLICY, run_platform_job


@dramatiq.actor(queue_name="token-refresh", **QUEUE_POLICY["token-refresh"])
def token_refresh(account_id: int) -> None:
    """Refresh one account's token under a row lock (tokens.services.refresh_account_token)."""
    from . import services

    run_platform_job(token_refresh, (account_id,), services.refresh_account_token)
