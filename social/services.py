"""Accounts: webhook subscriptions and disconnecting (plain functions; see STYLE.md)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from unipulse.platform_errors import PlatformError, TransientError

from .clients import facebook, instagram, meta, ratelimit, tiktok
from .events import account_event
from .models import AccountStatus, Platform, SocialAccount

logger = logging.getLogger(__name__)

WEBHOOK_REASON_PREFIX = "Webhook subscription failed"
REASON_SEPARATOR = " | "


def join_reasons(reasons: list[str]) -> str:
    return REASON_SEPARATOR.join(r for r in reasons if r)[:500]


def split_reasons(status_reason: str) -> list[str]:
    """The reasons join_reasons put together, in order, none empty."""
    return [r for r in (status_reason or "").split(REASON_SEPARATOR) if r]


def get_accounts_in_workspace(workspace) -> QuerySet[SocialAccount]:
    """The workspace's accounts (the one place that narrows accounts to a workspace)."""
    return SocialAccount.objects.in_workspace(workspace).order_by("platform", "name", "id")


def subscribe_page_webhooks(account: SocialAccount) -> bool:
    """Install the app on a Page for the inbox's webhook fields and read it back. Never raises.

    Success stamps `webhook_subscribed_at` on the Page and its Instagram accounts (their events
    flow through the Page's installation); failure leaves a visible status reason instead.
    """
    fields = list(settings.META_PAGE_WEBHOOK_FIELDS)
    try:
        facebook.subscribe_page_webhooks(account, fields)
        installed = {s.app_id: s.fields for s in facebook.get_page_subscriptions(account)}
        got = installed.get(str(settings.FACEBOOK_APP_ID), [])
        missing = [f for f in fields if f not in got]
        problem = f"{WEBHOOK_REASON_PREFIX}: Meta did not confirm {', '.join(missing)}." if missing else ""
    except PlatformError as error:
        logger.warning("Webhook subscription for account %s failed: %s", account.pk, error.error_code)
        problem = f"{WEBHOOK_REASON_PREFIX}: {error.message}"
    except Exception as error:  # noqa: BLE001 - e.g. the rate limiter's Redis gone: the account is still connected
        logger.error("Webhook subscription for account %s failed unexpectedly: %s", account.pk, type(error).__name__)
        problem = f"{WEBHOOK_REASON_PREFIX}: an error on our side; manage.py subscribe_webhooks will retry it."
    for target in [account, *account.children.filter(platform=Platform.INSTAGRAM)]:
        _record_subscription(target, problem)
    return not problem


def subscribe_instagram_login_webhooks(account: SocialAccount) -> bool:
    """Enable an Instagram Login account's own webhook deliveries and read them back. Idempotent.

    Unlike a Facebook-Login account (whose events flow through its Page), each of these accounts is
    subscribed by itself. Success stamps `webhook_subscribed_at`; a failure leaves a status reason
    (admin, accounts API). Returns whether it is subscribed; a temporary failure (TransientError, a
    rate limit too) is recorded and then raised, so a background job retries it.
    """
    fields = list(instagram.INSTAGRAM_LOGIN_WEBHOOK_FIELDS)
    try:
        instagram.subscribe_webhooks(account, fields)
        got = instagram.get_webhook_fields(account)
        missing = [f for f in fields if f not in got]
        problem = f"{WEBHOOK_REASON_PREFIX}: Meta did not confirm {', '.join(missing)}." if missing else ""
    except TransientError as error:
        logger.warning("Webhook subscription for account %s failed for now: %s", account.pk, error.error_code)
        _record_subscription(account, f"{WEBHOOK_REASON_PREFIX}: {error.message} It is retried.")
        raise
    except PlatformError as error:
        logger.warning("Webhook subscription for account %s failed: %s", account.pk, error.error_code)
        problem = f"{WEBHOOK_REASON_PREFIX}: {error.message}"
    _record_subscription(account, problem)
    return not problem


def needs_webhook_subscription(account: SocialAccount) -> bool:
    """An active Instagram Login account not subscribed to its webhooks yet (or whose subscription failed)."""
    return (account.uses_instagram_login and account.status == AccountStatus.ACTIVE and account.has_access_token
            and account.webhook_subscribed_at is None)


def subscribe_account_webhooks(account: SocialAccount) -> bool:
    """Re-subscribe an account: the Page behind it (an Instagram account's events flow through its Page),
    or an Instagram Login account by itself. Never raises."""
    if account.uses_instagram_login:
        try:
            return subscribe_instagram_login_webhooks(account)
        except TransientError:
            return False
    page = account.parent if account.platform == Platform.INSTAGRAM else account
    if page is None or page.platform != Platform.FACEBOOK:
        return False
    return subscribe_page_webhooks(page)


def _record_subscription(account: SocialAccount, problem: str) -> None:
    reasons = [r for r in split_reasons(account.status_reason) if not r.startswith(WEBHOOK_REASON_PREFIX)]
    if problem:
        reasons.append(problem)
    account.status_reason = join_reasons(reasons)
    account.webhook_subscribed_at = None if problem else timezone.now()
    account.save(update_fields=["status_reason", "webhook_subscribed_at", "updated_at"])


def disconnect_account(account: SocialAccount, *, announce: bool = True) -> SocialAccount:
    """Revoke where the platform allows it, wipe the tokens, mark disconnected. Idempotent.

    `announce`: write the `account.disconnected` event (not when the workspace itself is being deleted:
    its events and endpoints go with it).

    A revoke that fails is logged and does not stop the disconnect: the user asked us to forget
    the account, and the tokens are gone from our side either way.
    """
    token = account.access_token
    try:
        # Revoking removes the app for that Facebook user or TikTok creator, so only when no
        # active account in any workspace still depends on the same grant.
        if account.platform == Platform.TIKTOK and token and _is_last_on_grant(account):
            tiktok.revoke_token(token)
        elif account.platform in (Platform.FACEBOOK, Platform.INSTAGRAM) and _is_last_on_grant(account):
            meta.revoke_user_permissions(account.platform_user_id)
    except PlatformError as error:
        logger.warning("Revoking account %s failed: %s", account.pk, error.error_code)
    account.access_token = ""
    account.refresh_token = ""
    account.token_expires_at = None
    account.refresh_token_expires_at = None
    account.status = AccountStatus.DISCONNECTED
    account.status_reason = "Disconnected by the user."
    account.webhook_subscribed_at = None
    with transaction.atomic():
        account.save()
        if announce:
            account_event(account, "account.disconnected")
    return account


def _is_last_on_grant(account: SocialAccount) -> bool:
    if not account.platform_user_id or account.status == AccountStatus.DISCONNECTED:
        return False
    family = [Platform.TIKTOK] if account.platform == Platform.TIKTOK else [Platform.FACEBOOK, Platform.INSTAGRAM]
    return not SocialAccount.objects.filter(
        platform__in=family,
        platform_user_id=account.platform_user_id, status=AccountStatus.ACTIVE,
    ).exclude(pk=account.pk).exists()


def get_call_budget(account: SocialAccount) -> int | None:
    """Meta calls left this rolling hour for the user behind the account (None: TikTok, no budget)."""
    if account.platform == Platform.TIKTOK:
        return None
    return ratelimit.remaining_budget(meta.user_budget_key(account))


def get_call_budgets(accounts: list[SocialAccount]) -> dict[int, int | None]:
    """get_call_budget() of several accounts with one Redis round trip (for lists)."""
    keys = {a.pk: meta.user_budget_key(a) for a in accounts if a.platform != Platform.TIKTOK}
    remaining = ratelimit.remaining_budgets(list(keys.values()))
    return {a.pk: remaining[keys[a.pk]] if a.pk in keys else None for a in accounts}
