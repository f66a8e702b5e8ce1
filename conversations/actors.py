import dramatiq

from unipulse.jobs import QUEUE_POLICY, run_platform_job


@dramatiq.actor(queue_name="webhook-process", **QUEUE_POLICY["webhook-process"])
def webhook_process(event_id: int) -> None:
    """Route one stored WebhookEvent (conversations.services.process_webhook_event)."""
    from . import services

    run_platform_job(webhook_process, (event_id,), services.process_webhook_event)


@dramatiq.actor(queue_name="ice-process", **QUEUE_POLICY["ice-process"])
def ice_process(account_id: int) -> None:
    """Fetch and upsert an account's new comments and DMs (conversations.services.sync_account_inbox)."""
    from . import services

    run_platform_job(ice_process, (account_id,), services.sync_account_inbox)
