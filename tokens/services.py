"""Keep tokens alive: schedule, refresh (locked, single-flight), validate, and warn before they die.

Every account carries `token_refresh_due_at`, the moment the token-refresh job should next look at
it; `refresh_tokens` selects `status='active' AND (token_refresh_due_at <= now OR IS NULL)` in one
indexed query.
- TikTok: due when about a fifth of the lifetime TikTok actually granted (`expires_in`) remains.
  Refresh tokens rotate, so the new pair and both expiries are saved in one transaction.
- Instagram Login: the account's own 60-day Instagram user token, refreshed with `ig_refresh_token`
  once fewer than INSTAGRAM_REFRESH_DAYS_BEFORE days remain (and never before it is 24 h old, which
  Meta refuses); a refresh starts a new 60 days.
- Meta (Facebook Login): only Page tokens are stored, and those made from a long-lived user token do not expire; we
  re-check each token daily with `debug_token` (revoked or narrowed grants, data-access expiry) and
  warn when re-consent is coming. Nothing can renew a data-access expiry but the user logging in again.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_init, pre_save
from django.dispatch import receiver
from django.utils import timezone

from social.clients import instagram_login, meta, tiktok
from social.events import account_event
from social.models import AccountStatus, Platform, SocialAccount
from social.oauth import needed_scopes
from social.signals import account_needs_reauth
from unipulse.platform_errors import (
    InvalidRequestError,
    PermissionMissingError,
    ReauthRequiredError,
    TransientError,
)
from workspaces.services import get_admin_emails

logger = logging.getLogger(__name__)

REFRESH_FIELDS = [
    "access_token", "refresh_token", "token_expires_at", "refresh_token_expires_at", "data_access_expires_at",
    "token_refresh_due_at", "token_checked_at", "status", "status_reason", "scopes", "updated_at",
]
WARNING_PREFIX = "Expiring:"
# What ig_exchange_token and ig_refresh_token grant (Meta: "valid for 60 days from the date at which they
# are refreshed"); with the stored expiry it tells a token's age, which must reach 24 h before a refresh.
INSTAGRAM_TOKEN_LIFETIME = timedelta(days=60)
INSTAGRAM_MIN_TOKEN_AGE = timedelta(hours=25)  # Meta's 24 h, plus room for expires_in being a little under 60 days


# ---- scheduling ---------------------------------------------------------------------------------

def compute_refresh_due_at(account: SocialAccount, now=None):
    """When the job should next look at `account`, from what is stored now."""
    now = now or timezone.now()
    if account.platform == Platform.TIKTOK:
        if account.token_expires_at is None:
            return now
        remaining = max(account.token_expires_at - now, timedelta(0))
        # Stored tokens are fresh: the time left is the lifetime granted. Refresh with a fifth left.
        return now + remaining * (1 - settings.TIKTOK_REFRESH_REMAINING_FRACTION)
    if account.uses_instagram_login:
        return _instagram_login_due_at(account, now)
    due = now + settings.META_TOKEN_CHECK_INTERVAL
    for expiry in (account.token_expires_at, account.data_access_expires_at):
        if expiry is None or expiry <= now:
            continue  # passed: the check that saw it marked the account; only the daily look remains
        window_opens = expiry - settings.META_RENEW_BEFORE
        if window_opens > now:
            due = min(due, window_opens)
            continue
        # Inside the window: look now if not yet looked since it opened, then every few hours, and
        # once more when the expiry passes (to mark the account), never at every cron run.
        checked = account.token_checked_at
        next_look = now if checked is None or checked < window_opens else checked + settings.META_TOKEN_CHECK_NEAR_EXPIRY
        due = min(due, max(next_look, now), expiry)
    return due


def _instagram_login_due_at(account: SocialAccount, now):
    if account.token_expires_at is None:
        return now  # nothing known: look now (the refresh learns the expiry)
    issued = account.token_expires_at - INSTAGRAM_TOKEN_LIFETIME
    window_opens = account.token_expires_at - timedelta(days=settings.INSTAGRAM_REFRESH_DAYS_BEFORE)
    return max(window_opens, issued + INSTAGRAM_MIN_TOKEN_AGE)


@receiver(post_init, sender=SocialAccount)
def _remember_expiry(sender, instance: SocialAccount, **kwargs) -> None:
    instance._loaded_token_expires_at = instance.token_expires_at


@receiver(pre_save, sender=SocialAccount)
def _schedule_on_new_token(sender, instance: SocialAccount, update_fields=None, **kwargs) -> None:
    """Whoever stores a token (OAuth callback, refresh, admin) gets the next check scheduled."""
    if update_fields is not None and "token_expires_at" not in update_fields:
        return
    expiry_changed = instance.token_expires_at != getattr(instance, "_loaded_token_expires_at", None)
    if instance.token_refresh_due_at is None or expiry_changed or instance._state.adding:
        instance.token_refresh_due_at = compute_refresh_due_at(instance)
    instance._loaded_token_expires_at = instance.token_expires_at


def due_accounts(now=None):
    """Active accounts whose token needs a look now, on the status+due index.

    A row never scheduled (created before the schedule existed, or by .update()/bulk_create, which
    skip the pre_save hook) has no due time: it is due now, and its first look schedules it.
    """
    due = Q(token_refresh_due_at__lte=now or timezone.now()) | Q(token_refresh_due_at__isnull=True)
    return SocialAccount.objects.filter(due, status=AccountStatus.ACTIVE)


def select_due_account_ids(now=None, account_id: int | None = None) -> list[int]:
    """Ids of active accounts whose token needs a look now (one indexed query), or just `account_id`."""
    qs = due_accounts(now)
    if account_id is not None:
        qs = SocialAccount.objects.filter(pk=account_id).exclude(status=AccountStatus.DISCONNECTED)
    return list(qs.order_by("token_refresh_due_at").values_list("pk", flat=True))


# ---- refresh ------------------------------------------------------------------------------------

def refresh_account_token(account_id: int, force: bool = False, *, expiring_within: timedelta | None = None,
                          seen: tuple | None = None) -> SocialAccount:
    """Refresh or re-validate one account's token. Idempotent and single-flight.

    Runs when the account is due, when its token ends within `expiring_within`, or always with `force`.
    Two workers never refresh the same account at once: a cache lock (Redis in production) makes the
    loser wait, and the row lock + re-read makes it use the winner's token instead of spending the
    (rotating) refresh token again. "Renewed meanwhile" means the row's token version differs from
    `seen` (the caller's copy; by default the row as read before waiting for the lock), so this holds
    for forced refreshes too. Raises TransientError (retry), never disconnects on one.
    """
    seen = seen if seen is not None else _stored_token_version(account_id)
    reauth: ReauthRequiredError | None = None
    retry: TransientError | None = None
    with _single_flight(account_id):
        with transaction.atomic():
            account = SocialAccount.objects.select_for_update().get(pk=account_id)
            warned_before = account.status_reason.startswith(WARNING_PREFIX)
            if account.status == AccountStatus.DISCONNECTED:
                return account
            if token_version(account) != seen and not account.is_token_expired(expiring_within or timedelta(0)):
                return _winners_token(account)  # another worker refreshed it while we waited
            if not force and not _is_due(account, expiring_within):
                return account
            try:
                if account.platform == Platform.TIKTOK:
                    _refresh_tiktok(account)
                elif account.uses_instagram_login:
                    _refresh_instagram_login(account)
                else:
                    _check_meta(account)
            except ReauthRequiredError as error:
                reauth = error  # recorded below, raised after the commit so the status sticks
                account.refresh_from_db(fields=["status", "status_reason"])
            except TransientError as error:
                if not account.uses_instagram_login:
                    raise
                # Retried (the job's backoff, the next cron run); the warning says the clock is running.
                retry = error
                ends = f"{account.token_expires_at:%Y-%m-%d %H:%M} UTC" if account.token_expires_at else "soon"
                _warn(account, f"the Instagram token ends {ends} and could not be refreshed yet; retrying.")
            account.token_checked_at = timezone.now()
            account.token_refresh_due_at = compute_refresh_due_at(account)
            account.save(update_fields=REFRESH_FIELDS)
            if account.status_reason.startswith(WARNING_PREFIX) and not warned_before:
                account_event(account, "account.expiring")  # once per warning, with the row
    if reauth is not None:
        raise reauth
    if retry is not None:
        raise retry
    return account


def token_version(account: SocialAccount) -> tuple:
    """What changes whenever a token is renewed or re-checked (a refresh, a check, a reconnect)."""
    return (account.token_checked_at, account.token_expires_at)


def _stored_token_version(account_id: int) -> tuple | None:
    return SocialAccount.objects.filter(pk=account_id).values_list("token_checked_at", "token_expires_at").first()


def _is_due(account: SocialAccount, expiring_within: timedelta | None) -> bool:
    due = account.token_refresh_due_at
    if due is None or due <= timezone.now():
        return True
    return expiring_within is not None and account.is_token_expired(expiring_within)


def _winners_token(account: SocialAccount) -> SocialAccount:
    if account.status == AccountStatus.NEEDS_REAUTH:  # the winner learnt that the grant is gone
        raise ReauthRequiredError(account.status_reason, platform=account.platform)
    return account


def ensure_fresh(account: SocialAccount) -> None:
    """Before a platform call: refresh an expired or nearly expired, refreshable token first.

    Registered as http's token refresher (tokens.apps). Updates `account` in place. One locked call:
    if another worker renewed the token since `account` was read, its token is used as it stands.
    """
    if account.platform != Platform.TIKTOK or not account.pk or not account.has_refresh_token:
        return
    if not account.is_token_expired(leeway=settings.TOKEN_PRECALL_LEEWAY):
        return
    try:
        fresh = refresh_account_token(account.pk, expiring_within=settings.TOKEN_PRECALL_LEEWAY,
                                      seen=token_version(account))
    except ReauthRequiredError:
        account.refresh_from_db(fields=REFRESH_FIELDS)
        raise
    _copy_tokens(fresh, account)


def renew_rejected_token(account: SocialAccount) -> bool:
    """TikTok refused `account`'s access token as invalid or expired: refresh it once, locked.

    Registered as http's token renewer (tokens.apps); updates `account` in place. True when `account`
    now holds another token to retry the call with (ours, or one another worker got meanwhile);
    False when nothing can renew it (no refresh token, or it has run out). Raises ReauthRequiredError
    (account marked) when TikTok refuses the refresh, TransientError on a temporary failure.
    """
    if account.platform != Platform.TIKTOK or not account.pk or not account.has_refresh_token:
        return False
    if account.status != AccountStatus.ACTIVE:  # already known to need a reconnect: spend nothing
        return False
    if account.refresh_token_expires_at and account.refresh_token_expires_at <= timezone.now():
        return False
    rejected = account.access_token
    try:
        fresh = refresh_account_token(account.pk, force=True, seen=token_version(account))
    except ReauthRequiredError:
        account.refresh_from_db(fields=REFRESH_FIELDS)
        raise
    _copy_tokens(fresh, account)
    return bool(account.access_token) and account.access_token != rejected


def _copy_tokens(source: SocialAccount, target: SocialAccount) -> None:
    for name in REFRESH_FIELDS:
        setattr(target, name, getattr(source, name))
    target._loaded_token_expires_at = source.token_expires_at


def _refresh_tiktok(account: SocialAccount) -> None:
    now = timezone.now()
    if not account.has_refresh_token or (account.refresh_token_expires_at and account.refresh_token_expires_at <= now):
        _needs_reauth(account, "Reconnect your TikTok account: its authorisation has run out.")
    try:
        grant = tiktok.refresh_access_token(account.refresh_token)
    except ReauthRequiredError:
        _needs_reauth(account, "Reconnect your TikTok account: TikTok no longer accepts its authorisation.")
    account.access_token = grant.access_token
    if grant.refresh_token:  # TikTok rotates it; never overwrite a stored one with an empty answer
        account.refresh_token = grant.refresh_token
        account.refresh_token_expires_at = grant.refresh_expires_at
    account.token_expires_at = grant.expires_at
    if grant.scopes:
        account.scopes = grant.scopes
    _clear_warning(account)
    _warn_if_refresh_token_ending(account)
    logger.info("Refreshed TikTok token for account %s (expires in %d s)", account.pk, grant.expires_in)


def _refresh_instagram_login(account: SocialAccount) -> None:
    """A new 60-day token through ig_refresh_token. Refused (expired, revoked, the account gone
    private or its grant withdrawn) -> needs_reauth with the reason; a token under 24 h old is left alone."""
    now = timezone.now()
    if not account.has_access_token:
        _needs_reauth(account, "Reconnect your Instagram account: no token is stored.")
    if account.token_expires_at is not None and account.token_expires_at <= now:
        _needs_reauth(account, f"Reconnect your Instagram account: its Instagram Login token ended "
                               f"{account.token_expires_at:%Y-%m-%d %H:%M} UTC and can no longer be refreshed.")
    if account.token_expires_at is not None and account.token_expires_at - INSTAGRAM_TOKEN_LIFETIME > now - INSTAGRAM_MIN_TOKEN_AGE:
        return  # Meta refreshes only a token at least 24 h old; rescheduled by the caller
    try:
        grant = instagram_login.refresh_access_token(account)
    except (ReauthRequiredError, PermissionMissingError, InvalidRequestError) as error:
        logger.warning("Instagram Login refresh refused for account %s: code=%s trace=%s", account.pk,
                       error.error_code, error.trace_id)
        _needs_reauth(account, "Reconnect your Instagram account: Instagram no longer accepts its Instagram Login token.")
    account.access_token = grant.access_token
    account.token_expires_at = grant.expires_at
    _clear_warning(account)
    logger.info("Refreshed Instagram Login token for account %s (expires in %d s)", account.pk, grant.expires_in)


def _check_meta(account: SocialAccount) -> None:
    if not account.has_access_token:
        _needs_reauth(account, f"Reconnect your {account.get_platform_display()} account: no token is stored.")
    info = meta.debug_token(account.access_token)
    if not info.is_valid:
        _needs_reauth(account, f"Reconnect your {account.get_platform_display()} account: Meta says its access was revoked or expired.")
    if info.data_access_expires_at and info.data_access_expires_at <= timezone.now():
        account.data_access_expires_at = info.data_access_expires_at
        _needs_reauth(account, f"Reconnect your {account.get_platform_display()} account: Meta's data access for it "
                               f"ended {info.data_access_expires_at:%Y-%m-%d}; logging in again renews it.")
    # Only Page tokens are stored (Instagram calls use the Page's): nothing to re-exchange. One made
    # from a long-lived user token has no expiry; any expiry Meta reports is recorded and warned about.
    account.token_expires_at = info.expires_at
    account.data_access_expires_at = info.data_access_expires_at
    warnings = [_missing_permissions(account, info), *_meta_expiry_warnings(account)]
    _clear_warning(account)
    if any(warnings):
        _warn(account, " ".join(w for w in warnings if w))


def _missing_permissions(account: SocialAccount, info: meta.TokenInfo) -> str:
    """Compare the grant with what the account needs (not with the last stored, already narrowed list),
    so the warning stays until the user grants them again; also name any other scope lost since the
    last check. Stores the scopes now granted for this account, which publishing checks."""
    if not info.scopes:
        return ""  # debug_token did not list the grant: nothing to compare
    ids = {account.external_id, *([account.parent.external_id] if account.parent_id else [])}
    # A scope in granular_scopes was granted for those Pages/IG accounts only (a Page left unticked in
    # Meta's dialog is absent); a scope not in it holds for all of them.
    granted = [s for s in info.scopes if s not in info.granular_scopes or ids & set(info.granular_scopes[s])]
    needed = [*needed_scopes(account.platform), *account.scopes]
    missing = [s for s in dict.fromkeys(needed) if s not in granted]
    account.scopes = granted
    if not missing:
        return ""
    return f"Permissions missing on Meta ({', '.join(missing)}): reconnect and allow them."


def _meta_expiry_warnings(account: SocialAccount) -> list[str]:
    soon = timezone.now() + settings.TOKEN_WARNING_WINDOW
    if account.token_expires_at and account.token_expires_at <= soon:
        return [f"the token ends {account.token_expires_at:%Y-%m-%d %H:%M} UTC and cannot be renewed: reconnect before then."]
    if account.data_access_expires_at and account.data_access_expires_at <= timezone.now() + settings.META_RENEW_BEFORE:
        return [f"Meta needs the user to log in again before {account.data_access_expires_at:%Y-%m-%d} (data access expiry): reconnect."]
    return []


def _warn_if_refresh_token_ending(account: SocialAccount) -> None:
    expiry = account.refresh_token_expires_at
    if expiry and expiry <= timezone.now() + settings.TOKEN_WARNING_WINDOW:
        _warn(account, f"TikTok's authorisation ends {expiry:%Y-%m-%d %H:%M} UTC: reconnect before then.")


def _warn(account: SocialAccount, text: str) -> None:
    account.status_reason = f"{WARNING_PREFIX} {text}"[:500]


def _clear_warning(account: SocialAccount) -> None:
    if account.status_reason.startswith(WARNING_PREFIX):
        account.status_reason = ""


def _needs_reauth(account: SocialAccount, reason: str) -> None:
    """Only an answer that the grant is gone lands here: mark the account once, stop this refresh."""
    account.mark_needs_reauth(reason)
    raise ReauthRequiredError(reason, platform=account.platform)


class _single_flight:
    """A per-account lock in the shared cache; waits for the holder rather than refreshing twice."""

    def __init__(self, account_id: int) -> None:
        self.key = f"token-refresh-lock:{account_id}"

    def __enter__(self):
        deadline = time.monotonic() + settings.TOKEN_REFRESH_LOCK_WAIT
        while not cache.add(self.key, 1, timeout=settings.TOKEN_REFRESH_LOCK_TTL):
            if time.monotonic() > deadline:
                # Temporary by nature: the job retries with backoff, the API answers 502 "try again".
                raise TransientError("Another refresh of this account is still running; try again in a moment.",
                                     code="refresh_in_progress")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        cache.delete(self.key)


# ---- reconnect e-mail ---------------------------------------------------------------------------

@receiver(account_needs_reauth)
def _email_admins(sender, account: SocialAccount, reason: str, **kwargs) -> None:
    """Tell the workspace's owners and admins (who may reconnect) that an account needs reconnecting."""
    if not settings.NOTIFY_REAUTH_BY_EMAIL:
        return
    recipients = get_admin_emails(account.workspace_id)
    if not recipients:
        return
    send_mail(
        subject=f"Reconnect {account} in UniPulse",
        message=f"{reason}\n\nOpen UniPulse and reconnect the account: {settings.FRONTEND_URL}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
        fail_silently=True,
    )
