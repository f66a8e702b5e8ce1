"""State of the fake platforms: people, Pages, accounts, tokens, content, inbox, publish jobs, failures.

Sandbox tokens and codes are stored in plain text on purpose: they are random strings this process
made up, valid only against the sandbox, and worth nothing anywhere else. (Real platform tokens live
encrypted on social.SocialAccount.)
"""

from __future__ import annotations

import secrets

from django.db import models

from . import clock


def new_numeric_id(digits: int = 15) -> str:
    """A Graph-looking numeric id (Page 1045…, IG 1784…, posts…), random so restarts never collide."""
    return str(10 ** (digits - 1) + secrets.randbelow(9 * 10 ** (digits - 1)))


def new_token(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


class FacebookUser(models.Model):
    """A test Facebook user: the person who approves the dialog and owns the Pages."""

    fb_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name, verbose_name_plural = "Facebook user", "Facebook users"

    def __str__(self) -> str:
        return self.name


class Page(models.Model):
    page_id = models.CharField(max_length=32, unique=True)
    owner = models.ForeignKey(FacebookUser, on_delete=models.CASCADE, related_name="pages")
    name = models.CharField(max_length=200)
    username = models.CharField(max_length=100, blank=True, default="")
    category = models.CharField(max_length=100, default="Local business")
    base_followers = models.PositiveIntegerField(default=1200)
    subscribed_fields = models.JSONField(default=list, blank=True, help_text="Webhook fields the app is installed for.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name, verbose_name_plural = "Facebook Page", "Facebook Pages"

    def __str__(self) -> str:
        return self.name


class InstagramAccount(models.Model):
    ig_id = models.CharField(max_length=32, unique=True)
    page = models.OneToOneField(Page, on_delete=models.CASCADE, related_name="instagram")
    username = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    base_followers = models.PositiveIntegerField(default=2400)
    subscribed_fields = models.JSONField(default=list, blank=True, help_text=(
        "Instagram Login: webhook fields this account is subscribed to by itself (POST /{ig-id}/subscribed_apps)."))
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name, verbose_name_plural = "Instagram account", "Instagram accounts"

    def __str__(self) -> str:
        return f"@{self.username}"


class TikTokCreator(models.Model):
    open_id = models.CharField(max_length=64, unique=True)
    union_id = models.CharField(max_length=64)
    username = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    base_followers = models.PositiveIntegerField(default=15000)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name, verbose_name_plural = "TikTok creator", "TikTok creators"

    def __str__(self) -> str:
        return f"@{self.username}"


class AuthCode(models.Model):
    """An authorization code the dialog issued, bound to the assets the tester ticked."""

    code = models.CharField(max_length=100, unique=True)
    platform = models.CharField(max_length=10, choices=[("meta", "Meta"), ("tiktok", "TikTok"),
                                                        ("instagram", "Instagram Login")])
    client_id = models.CharField(max_length=100)
    redirect_uri = models.CharField(max_length=2048)
    scopes = models.JSONField(default=list)
    fb_user = models.ForeignKey(FacebookUser, null=True, blank=True, on_delete=models.CASCADE)
    pages = models.ManyToManyField(Page, blank=True)
    creator = models.ForeignKey(TikTokCreator, null=True, blank=True, on_delete=models.CASCADE)
    instagram = models.ForeignKey(InstagramAccount, null=True, blank=True, on_delete=models.CASCADE,
                                  help_text="Instagram Login: the professional account the tester approved.")
    created_at = models.DateTimeField(default=clock.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.platform} code {self.pk}"


class Token(models.Model):
    class Kind(models.TextChoices):
        USER = "user", "Facebook user token"
        PAGE = "page", "Facebook Page token"
        TIKTOK_ACCESS = "tt_access", "TikTok access token"
        TIKTOK_REFRESH = "tt_refresh", "TikTok refresh token"
        INSTAGRAM_SHORT = "ig_short", "Instagram user token (1 h)"
        INSTAGRAM_LONG = "ig_long", "Instagram user token (60 days)"

    token = models.CharField(max_length=200, unique=True)  # plain on purpose: see the module docstring
    kind = models.CharField(max_length=12, choices=Kind.choices)
    fb_user = models.ForeignKey(FacebookUser, null=True, blank=True, on_delete=models.CASCADE)
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.CASCADE)
    creator = models.ForeignKey(TikTokCreator, null=True, blank=True, on_delete=models.CASCADE)
    instagram = models.ForeignKey(InstagramAccount, null=True, blank=True, on_delete=models.CASCADE)
    granted_pages = models.ManyToManyField(Page, blank=True, related_name="+")
    scopes = models.JSONField(default=list)
    issued_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def is_valid(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > clock.now())


class Post(models.Model):
    """A published Page post, photo or video, Instagram media, or TikTok video. Metrics grow from `seed`."""

    class Network(models.TextChoices):
        FACEBOOK = "facebook"
        INSTAGRAM = "instagram"
        TIKTOK = "tiktok"

    post_id = models.CharField(max_length=64, unique=True)
    network = models.CharField(max_length=10, choices=Network.choices)
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.CASCADE, related_name="posts")
    instagram = models.ForeignKey(InstagramAccount, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="media")
    creator = models.ForeignKey(TikTokCreator, null=True, blank=True, on_delete=models.CASCADE, related_name="videos")
    # Facebook: status|link|photo|video|album. Instagram: IMAGE|VIDEO|CAROUSEL_ALBUM. TikTok: VIDEO|PHOTO.
    media_type = models.CharField(max_length=20)
    product_type = models.CharField(max_length=10, blank=True, default="", help_text="Instagram: FEED|REELS|STORY.")
    message = models.TextField(blank=True, default="")
    link = models.CharField(max_length=2048, blank=True, default="")
    media_url = models.CharField(max_length=2048, blank=True, default="")
    photo_id = models.CharField(max_length=32, blank=True, default="", help_text="Facebook photo/video object id.")
    is_published = models.BooleanField(default=True, help_text="False: an unpublished Facebook photo.")
    created_at = models.DateTimeField(default=clock.now)
    seed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.network} {self.post_id}"


class MediaContainer(models.Model):
    """An Instagram container: IN_PROGRESS until `ready_at`, then FINISHED (or ERROR), PUBLISHED, EXPIRED."""

    container_id = models.CharField(max_length=32, unique=True)
    instagram = models.ForeignKey(InstagramAccount, on_delete=models.CASCADE, related_name="containers")
    media_type = models.CharField(max_length=20, blank=True, default="")
    image_url = models.CharField(max_length=2048, blank=True, default="")
    video_url = models.CharField(max_length=2048, blank=True, default="")
    caption = models.TextField(blank=True, default="")
    is_carousel_item = models.BooleanField(default=False)
    children = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    ready_at = models.DateTimeField()
    error_subcode = models.PositiveIntegerField(null=True, blank=True, help_text="Set: ends in ERROR.")
    published_media = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"container {self.container_id}"


class Comment(models.Model):
    comment_id = models.CharField(max_length=80, unique=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    author_id = models.CharField(max_length=32)
    author_name = models.CharField(max_length=100)
    message = models.TextField()
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.comment_id}"


class Conversation(models.Model):
    """A Messenger or Instagram DM thread between a Page (or its IG account) and one person."""

    thread_id = models.CharField(max_length=64, unique=True)
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="conversations")
    platform = models.CharField(max_length=10, choices=[("messenger", "Messenger"), ("instagram", "Instagram")])
    participant_id = models.CharField(max_length=32)
    participant_name = models.CharField(max_length=100)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.platform} thread {self.thread_id}"


class DirectMessage(models.Model):
    mid = models.CharField(max_length=100, unique=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    from_id = models.CharField(max_length=32)
    to_id = models.CharField(max_length=32)
    text = models.TextField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"message {self.mid}"


class PublishJob(models.Model):
    """A TikTok publish: its status is derived from time (tiktok.job_status), FAILED when `fail_reason` is set."""

    publish_id = models.CharField(max_length=64, unique=True)
    creator = models.ForeignKey(TikTokCreator, on_delete=models.CASCADE, related_name="publish_jobs")
    mode = models.CharField(max_length=16, help_text="DIRECT_POST or MEDIA_UPLOAD (inbox).")
    media_type = models.CharField(max_length=10, default="VIDEO")
    source = models.CharField(max_length=16, help_text="FILE_UPLOAD or PULL_FROM_URL.")
    title = models.TextField(blank=True, default="")
    privacy_level = models.CharField(max_length=32, blank=True, default="")
    video_size = models.BigIntegerField(default=0)
    uploaded_bytes = models.BigIntegerField(default=0)
    upload_token = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    media_ready_at = models.DateTimeField(null=True, blank=True, help_text="All bytes uploaded or downloaded.")
    fail_reason = models.CharField(max_length=64, blank=True, default="")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL)
    notified = models.JSONField(default=list, blank=True, help_text="Webhook events already sent.")

    def __str__(self) -> str:
        return self.publish_id


class Failure(models.Model):
    """Make the next `remaining` matching requests fail the way the real platform fails (tests, demos)."""

    class Kind(models.TextChoices):
        GRAPH_ERROR = "graph_error", "Graph error envelope (code/subcode)"
        RATE_LIMIT = "rate_limit", "Rate limit with usage headers at 100%"
        SERVER_ERROR = "server_error", "HTTP 5xx"
        SLOW = "slow", "Slow answer (bounded delay, then the normal answer)"
        TIKTOK_ERROR = "tiktok_error", "TikTok error envelope (code string)"
        CONTAINER_ERROR = "container_error", "Next Instagram container ends in ERROR"
        PUBLISH_FAILED = "publish_failed", "Next TikTok publish ends FAILED"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    platform = models.CharField(max_length=10, choices=[("meta", "Meta"), ("tiktok", "TikTok")])
    path_contains = models.CharField(max_length=200, blank=True, default="", help_text="Empty: any path.")
    method = models.CharField(max_length=10, blank=True, default="", help_text="Empty: any method.")
    remaining = models.PositiveIntegerField(default=1)
    status = models.PositiveIntegerField(null=True, blank=True)
    code = models.CharField(max_length=64, blank=True, default="")
    subcode = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True, default="")
    delay_seconds = models.FloatField(default=0)
    fail_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} x{self.remaining} ({self.platform})"
