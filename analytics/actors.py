import dramatiq

from unipulse.jobs import QUEUE_POLICY, run_platform_job


@dramatiq.actor(queue_name="analytics-sync", **QUEUE_POLICY["analytics-sync"])
def analytics_sync(account_id: int) -> None:
    """Sync one account's post and account metrics (analytics.services.sync_account)."""
    from . import services

    run_platform_job(analytics_sync, (account_id,), services.sync_account)
