"""Analytics data: tracked posts with their latest numbers, append-only snapshots, sync runs.

Analytics keeps its own per-post rows (TrackedPost) instead of importing publishing's models:
posts published outside UniPulse are tracked too (source=external).
"""

from __future__ import annotations

from django.db import models

from social.models import Platform, SocialAccount


class SyncRun(models.Model):
    """One sync of one account. A run paused for lack of call budget resumes from `cursor`."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused (call budget)"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="analytics_runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cursor = models.JSONField(default=dict, blank=True, help_text="Where a paused run resumes.")
    posts_synced = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["account", "status", "-started_at"], name="analytics_run_account")]

    def __str__(self) -> str:
        return f"Sync run {self.pk} · account {self.account_id} · {self.status}"


class TrackedPost(models.Model):
    class Source(models.TextChoices):
        UNIPULSE = "unipulse", "Published with UniPulse"
        EXTERNAL = "external", "Published elsewhere"

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="tracked_posts")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    platform_post_id = models.CharField(max_length=128)
    media_type = models.CharField(max_length=32, blank=True, default="")
    product_type = models.CharField(max_length=32, blank=True, default="")
    caption = models.TextField(blank=True, default="")
    permalink = models.URLField(max_length=2048, blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.EXTERNAL)
    views = models.BigIntegerField(null=True, blank=True)
    reach = models.BigIntegerField(null=True, blank=True)
    likes = models.BigIntegerField(null=True, blank=True)
    comments = models.BigIntegerField(null=True, blank=True)
    shares = models.BigIntegerField(null=True, blank=True)
    saves = models.BigIntegerField(null=True, blank=True)
    latest_metrics = models.JSONField(default=dict, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True, help_text="Empty: outside the window, no more syncs.")

    class Meta:
        ordering = ["-published_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "platform_post_id"], name="analytics_uniq_post_per_account"),
        ]
        indexes = [models.Index(fields=["account", "next_sync_at"], name="analytics_post_due")]

    def __str__(self) -> str:
        return f"{self.platform} post {self.platform_post_id}"


COUNTERS = ("views", "reach", "likes", "comments", "shares", "saves")


class PostMetricSnapshot(models.Model):
    """Append-only: a post's numbers as one sync run saw them. At most one row per post per run."""

    tracked_post = models.ForeignKey(TrackedPost, on_delete=models.CASCADE, related_name="snapshots")
    sync_run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="post_snapshots")
    captured_at = models.DateTimeField()
    metrics = models.JSONField(default=dict)
    raw = models.JSONField(default=dict, help_text="The platform's item as received (no tokens).")

    class Meta:
        ordering = ["captured_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tracked_post", "sync_run"], name="analytics_uniq_post_snapshot_per_run"),
        ]
        indexes = [models.Index(fields=["tracked_post", "captured_at"], name="analytics_post_snap_time")]

    def __str__(self) -> str:
        return f"Snapshot of post {self.tracked_post_id} at {self.captured_at:%Y-%m-%d %H:%M}"


class AccountMetricSnapshot(models.Model):
    """Append-only: followers and account numbers as one sync run saw them."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="metric_snapshots")
    sync_run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="account_snapshots")
    captured_at = models.DateTimeField()
    followers = models.BigIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict)
    raw = models.JSONField(default=dict)

    class Meta:
        ordering = ["captured_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "sync_run"], name="analytics_uniq_account_snapshot_per_run"),
        ]
        indexes = [models.Index(fields=["account", "captured_at"], name="analytics_account_snap_time")]

    def __str__(self) -> str:
        return f"Snapshot of account {self.account_id} at {self.captured_at:%Y-%m-%d %H:%M}"


class AccountMetrics(models.Model):
    """The latest account numbers, for fast lists."""

    account = models.OneToOneField(SocialAccount, on_delete=models.CASCADE, related_name="analytics_metrics")
    followers = models.BigIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "account metrics"  # Django would add an s: "account metricss"

    def __str__(self) -> str:
        return f"Metrics of account {self.account_id}"


class RejectedMetric(models.Model):
    """A metric name Graph refused for a Graph version: it is no longer requested; fix the catalogue."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    graph_version = models.CharField(max_length=16)
    kind = models.CharField(max_length=32, help_text="fb_post or an IG media product type.")
    metric = models.CharField(max_length=128)
    message = models.CharField(max_length=300, blank=True, default="")
    times = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "graph_version", "kind", "metric"], name="analytics_uniq_rejected"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} ({self.platform} {self.graph_version}, {self.kind})"
