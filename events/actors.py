import dramatiq

from unipulse.jobs import QUEUE_POLICY


@dramatiq.actor(queue_name="webhook-deliver", **QUEUE_POLICY["webhook-deliver"])
def webhook_deliver(delivery_id: int) -> None:
    """One attempt of one outgoing webhook delivery (events.delivery.attempt); it plans its own retries."""
    from . import delivery

    delivery.attempt(delivery_id)
