"""conversations' reactions to other apps' events, connected in ConversationsConfig.ready()."""

from __future__ import annotations

from django.dispatch import receiver

from social.signals import instagram_login_connected


@receiver(instagram_login_connected)
def subscribe_and_poll_after_connect(sender, account_id: int, **kwargs) -> None:
    """Subscribe a new Instagram Login account to its webhooks and read its inbox, on the ice-process queue
    (retried there; until it holds, every scheduled poll tries again)."""
    from .actors import ice_process

    ice_process.send(account_id)  # the signal is sent once the connect has committed
