"""SocialAccount: one connected Facebook Page, Instagram professional account or TikTok account.

Shared by every app. Tokens are encrypted at rest (social.fields.EncryptedTokenField) and never
appear in repr, admin, API output, logs or error messages.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .fields import EncryptedTokenField
from .signals import account_needs_reauth


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook Page"
    INSTAGRAM = "instagram", "Instagram"
    TIKTOK = "tiktok", "TikTok"


META_PLATFORMS = (Platform.FACEBOOK, Platform.INSTAGRAM)  # one Meta app, Graph API, Facebook Login

class LoginPath(models.TextChoices):
    """How an Instagram account was connected: through a Facebook Page, or Instagram's own login."""

    FACEBOOK = "facebook", "Facebook Login (through a Page)"
    INSTAGRAM = "instagram", "Instagram Login"


# The connect flow of the Instagram Login path: its own start and callback routes and OAuth states
# (a state started for one flow is refused at another's callback), landing on platform=instagram.
INSTAGRAM_LOGIN_FLOW = "instagram_login"
OAUTH_FLOW_CHOICES = [*Platform.choices, (INSTAGRAM_LOGIN_FLOW, "Instagram (Instagram Login)")]


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs reconnect"
    DISCONNECTED = "disconnected", "Disconnected"


class SocialAccountQuerySet(models.QuerySet):
    def in_workspace(self, workspace) -> SocialAccountQuerySet:
        return self.filter(workspace=workspace)

    def active(self) -> SocialAccountQuerySet:
        return self.filter(status=AccountStatus.ACTIVE)


class SocialAccount(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="social_accounts")
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="connected_accounts", help_text="Who last connected it.")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField(max_length=128, help_text="Page id, Instagram user id or TikTok open_id.")
    platform_user_id = models.CharField(
        max_length=128, blank=True, default="",
        help_text="Who granted the token: the Facebook user for Pages and Instagram, the TikTok open_id.",
    )
    name = models.CharField(max_length=255, blank=True, default="")
    username = models.CharField(max_length=255, blank=True, default="")
    avatar_url = models.URLField(max_length=2048, blank=True, default="")
    scopes = models.JSONField(default=list, blank=True, help_text="Permissions the user granted.")
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True, default="")

    access_token = EncryptedTokenField()
    refresh_token = EncryptedTokenField()
    token_expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the token does not expire.")
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    data_access_expires_at = models.DateTimeField(null=True, blank=True, help_text="Meta: re-consent needed after this.")
    token_refresh_due_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the token-refresh job next looks at this account (set by tokens.services).",
    )
    token_checked_at = models.DateTimeField(null=True, blank=True, help_text="Last refresh or validity check.")

    login_path = models.CharField(
        max_length=16, choices=LoginPath.choices, blank=True, default="",
        help_text="Instagram only: the path of the last connect (Facebook Login through a Page, or Instagram Login).",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
        help_text="The Facebook Page an Instagram account is linked through.",
    )
    blocked_until = models.DateTimeField(null=True, blank=True, help_text="No platform calls before this time.")
    is_sandbox = models.BooleanField(default=False, help_text="Created by the built-in sandbox platforms.")
    connected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    webhook_subscribed_at = models.DateTimeField(null=True, blank=True)

    objects = SocialAccountQuerySet.as_manager()

    class Meta:
        ordering = ["platform", "name", "id"]
        constraints = [
            # The same Page connected in two workspaces is two rows (webhooks reach both).
            models.UniqueConstraint(fields=["workspace", "platform", "external_id"], name="uniq_account_per_workspace"),
        ]
        indexes = [
            # refresh_tokens: WHERE status = 'active' AND token_expires_at < now + window
            models.Index(fields=["status", "token_expires_at"], name="account_status_expiry"),
            # refresh_tokens: WHERE status = 'active' AND token_refresh_due_at <= now
            models.Index(fields=["status", "token_refresh_due_at"], name="account_status_refresh_due"),
            models.Index(fields=["status", "data_access_expires_at"], name="account_status_data_expiry"),
            models.Index(fields=["platform", "external_id"], name="account_platform_external"),
            models.Index(fields=["platform", "platform_user_id"], name="account_platform_user"),
        ]

    def __str__(self) -> str:
        label = self.username or self.name or self.external_id
        return f"{self.get_platform_display()} · {label}"

    def __repr__(self) -> str:
        return f"<SocialAccount id={self.pk} platform={self.platform} external_id={self.external_id} status={self.status}>"

    @property
    def uses_instagram_login(self) -> bool:
        """An Instagram account connected through Instagram Login: its own token, graph.instagram.com."""
        return self.platform == Platform.INSTAGRAM and self.login_path == LoginPath.INSTAGRAM

    @property
    def has_access_token(self) -> bool:
        return bool(self.access_token)

    @property
    def has_refresh_token(self) -> bool:
        return bool(self.refresh_token)

    def is_token_expired(self, leeway: timedelta = timedelta(0)) -> bool:
        return self.token_expires_at is not None and self.token_expires_at <= timezone.now() + leeway

    def is_blocked(self) -> bool:
        return self.blocked_until is not None and self.blocked_until > timezone.now()

    def mark_needs_reauth(self, reason: str) -> bool:
        """Set needs_reauth once; returns True only for the call that changed the status."""
        from .events import account_event

        with transaction.atomic():
            changed = SocialAccount.objects.filter(pk=self.pk).exclude(status=AccountStatus.NEEDS_REAUTH).exclude(
                status=AccountStatus.DISCONNECTED
            ).update(status=AccountStatus.NEEDS_REAUTH, status_reason=reason[:500], updated_at=timezone.now())
            if changed:
                self.status, self.status_reason = AccountStatus.NEEDS_REAUTH, reason[:500]
                account_event(self, "account.needs_reauth")
        if changed:
            account_needs_reauth.send(sender=SocialAccount, account=self, reason=reason)
        return bool(changed)

    def mark_blocked(self, until) -> bool:
        """Record a platform block until `until`; never shortens a longer block already recorded."""
        changed = SocialAccount.objects.filter(pk=self.pk).filter(
            models.Q(blocked_until__isnull=True) | models.Q(blocked_until__lt=until)
        ).update(blocked_until=until, updated_at=timezone.now())
        if changed:
            self.blocked_until = until
        return bool(changed)


class OAuthState(models.Model):
    """One OAuth `state` value: random, bound to a user, a workspace and a platform, single-use, short-lived."""

    state = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oauth_states")
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=OAUTH_FLOW_CHOICES, help_text="The connect flow it was made for.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = "OAuth state", "OAuth states"

    def __repr__(self) -> str:
        return f"<OAuthState id={self.pk} platform={self.platform} used={self.used_at is not None}>"

    def __str__(self) -> str:
        return f"OAuth state for {self.platform}"


def get_account_in_workspace(workspace, account_id: int) -> SocialAccount:
    """One account of the workspace, or SocialAccount.DoesNotExist (which the API turns into 404)."""
    return SocialAccount.objects.in_workspace(workspace).get(pk=account_id)
