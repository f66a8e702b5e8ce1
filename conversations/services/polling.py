"""Incremental polling of comments and DMs: what webhooks missed, resuming from a stored time per account."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from social.models import AccountStatus, SocialAccount
from social.services import join_reasons, split_reasons

from ..models import InboxSyncState, Message
from ..platforms import NoInboxError, get_inbox
from . import inbox
from .inbox import QUIET_REASON

logger = logging.getLogger(__name__)


def sync_account_inbox(account_id: int) -> int:
    """Fetch and upsert an account's comments and DMs newer than the stored cursor. Idempotent.

    Returns how many items only the poll found (no webhook had delivered them). Raises PlatformError.
    """
    account = SocialAccount.objects.select_related("parent").filter(pk=account_id, status=AccountStatus.ACTIVE).first()
    if account is None:
        return 0
    try:
        platform = get_inbox(account.platform)
    except NoInboxError:
        return 0
    state, _ = InboxSyncState.objects.get_or_create(account=account)
    result = platform.poll(account, state.comments_since, state.messages_since)
    missed = sum(inbox.upsert_item(account, item, Message.Origin.POLL)[1] for item in [*result.comments, *result.messages])
    now = timezone.now()
    InboxSyncState.objects.filter(pk=state.pk).update(
        comments_since=result.comments_since, messages_since=result.messages_since, last_polled_at=now,
        missed_by_webhooks=state.missed_by_webhooks + missed,
    )
    if missed and _webhooks_quiet(state, now):
        _flag_quiet_webhooks(account)
    return missed


def _webhooks_quiet(state: InboxSyncState, now) -> bool:
    quiet_after = timedelta(hours=settings.INBOX_WEBHOOK_QUIET_HOURS)
    # A first poll finds history that predates the connection: not a webhook problem.
    if state.last_polled_at is None:
        return False
    return state.last_webhook_at is None or state.last_webhook_at < now - quiet_after


def _flag_quiet_webhooks(account: SocialAccount) -> None:
    # Added beside the account's other reasons, on the instance too: the re-subscribe below rebuilds
    # status_reason from the instance it is given and saves it, so a stale one would wipe this reason.
    account.refresh_from_db(fields=["status_reason"])
    reasons = split_reasons(account.status_reason)
    if QUIET_REASON not in reasons:
        account.status_reason = join_reasons([*reasons, QUIET_REASON])
        account.save(update_fields=["status_reason", "updated_at"])
    resubscribe = _find_resubscribe()
    if resubscribe is None:
        logger.warning("account %s: webhooks quiet; no re-subscribe helper available", account.pk)
        return
    try:
        resubscribe(account)
    except Exception as error:  # a failed re-subscribe must not lose the poll's results
        logger.warning("account %s: re-subscribe failed (%s)", account.pk, type(error).__name__)


def _find_resubscribe():
    """The social app owns webhook subscriptions (looked up at call time so tests can replace it)."""
    from social import services as social_services

    return social_services.subscribe_account_webhooks
