"""Post (what the user wrote), its ordered media, and one PostTarget per chosen account.

A target carries its own publish state: `status`, `step` (the last finished remote step) and every
remote handle, saved as soon as it exists, so a retry resumes instead of starting over.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from social.models import SocialAccount


class Approval(models.TextChoices):
    NOT_NEEDED = "", "Not needed"
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Time passed while pending"


class PostSeries(models.Model):
    """A recurring post: an RRULE (subset) over local wall-clock times, whose occurrences are ordinary posts
    created ahead for a window (SCHEDULING_RECURRENCE_DAYS) by `create_recurring_posts`."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="post_series")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    rule = models.CharField(max_length=500, help_text="RRULE subset: FREQ, INTERVAL, BYDAY (weekly), UNTIL or COUNT.")
    starts_at = models.DateTimeField(help_text="The first occurrence (its local time in `timezone` repeats).")
    timezone = models.CharField(max_length=64, help_text="The workspace's timezone when the series was written.")
    template = models.JSONField(default=dict, help_text="What each occurrence posts: text, link, media, accounts, options.")
    generated_until = models.DateTimeField(help_text="Occurrences up to this instant exist.")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="No occurrence from this instant on (deleted or split).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "post series"

    def __str__(self) -> str:
        return f"Series {self.pk}: {self.rule}"


class Post(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="posts")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="posts")
    text = models.TextField(blank=True, default="")
    link = models.URLField(max_length=2048, blank=True, default="")
    first_comment = models.TextField(blank=True, default="", help_text="Posted on Facebook and Instagram once live.")
    scheduled_at = models.DateTimeField(null=True, blank=True, help_text="Empty: publish now.")
    idempotency_key = models.CharField(max_length=255, blank=True, default="", editable=False,
                                       help_text="The Idempotency-Key header of the request that created it.")
    idempotency_fingerprint = models.CharField(
        max_length=64, blank=True, default="", editable=False,
        help_text="SHA-256 of the request body that came with the key: a repeat must send the same body.")
    approval = models.CharField(max_length=16, choices=Approval.choices, blank=True, default="")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True, default="", help_text="Why it was rejected (kept until approved).")
    series = models.ForeignKey(PostSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts")
    series_at = models.DateTimeField(null=True, blank=True, help_text="The occurrence of the series this post is.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="post_workspace_created")]
        constraints = [
            # One post per key and workspace, enforced by the database: of two concurrent requests with the
            # same key only one INSERT succeeds. Posts created without a key are not constrained.
            models.UniqueConstraint(fields=["workspace", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="uniq_post_idempotency_key"),
            # One post per occurrence: two runs of create_recurring_posts at once cannot both create it.
            models.UniqueConstraint(fields=["series", "series_at"], condition=models.Q(series__isnull=False),
                                    name="uniq_series_occurrence"),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk}: {self.text[:40]}"

    def is_published_anywhere(self) -> bool:
        """Live on at least one account: its text and media are what the platforms show, no longer a draft."""
        return self.targets.filter(status="published").exists()


class MediaType(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"


class PostMedia(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    url = models.URLField(max_length=2048)
    type = models.CharField(max_length=8, choices=MediaType.choices)
    alt_text = models.CharField(max_length=1000, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name, verbose_name_plural = "media item", "media items"  # not "post medias"

    def __str__(self) -> str:
        return f"{self.type} #{self.position}"


class TargetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


NOT_STARTED = (TargetStatus.DRAFT, TargetStatus.PENDING_APPROVAL, TargetStatus.SCHEDULED, TargetStatus.QUEUED)
FINISHED = (TargetStatus.PUBLISHED, TargetStatus.UNCONFIRMED, TargetStatus.FAILED, TargetStatus.CANCELLED)
# A target filling a queue slot holds it while in one of these; published, failed, cancelled or back to
# draft (rejected, expired) frees it, with no code path to forget: the unique index below only covers these.
HOLDS_SLOT = (TargetStatus.PENDING_APPROVAL, TargetStatus.SCHEDULED, TargetStatus.QUEUED, TargetStatus.PUBLISHING)


class Step(models.TextChoices):
    NONE = "", "Not started"
    PREPARED = "prepared", "Prepared"     # containers created / photos uploaded
    READY = "ready", "Ready"               # every container FINISHED
    COMMITTED = "committed", "Committed"  # the public-making call answered
    DONE = "done", "Done"


class CommentStatus(models.TextChoices):
    NONE = "", "No first comment"
    PENDING = "pending", "Pending"
    UNKNOWN = "unknown", "Unclear: look it up before retrying"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"


class PostTarget(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="post_targets")
    status = models.CharField(max_length=16, choices=TargetStatus.choices, default=TargetStatus.DRAFT)
    step = models.CharField(max_length=16, choices=Step.choices, blank=True, default="")
    # Copied from the post so publish_due reads one indexed table.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="This platform's options.")

    container_ids = models.JSONField(default=dict, blank=True, help_text="Instagram containers / Facebook photo ids.")
    publish_id = models.CharField(max_length=128, blank=True, default="", help_text="TikTok publish_id.")
    platform_post_id = models.CharField(max_length=128, blank=True, default="")
    permalink = models.URLField(max_length=2048, blank=True, default="")

    attempts = models.PositiveIntegerField(default=0, help_text="Runs that ended in a temporary error.")
    polls = models.PositiveIntegerField(default=0)
    last_error_code = models.CharField(max_length=64, blank=True, default="")
    last_error_message = models.CharField(max_length=1000, blank=True, default="")
    commit_started_at = models.DateTimeField(null=True, blank=True, help_text="Set just before the public-making call.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker is on this target until then.")
    published_at = models.DateTimeField(null=True, blank=True)
    slot_at = models.DateTimeField(null=True, blank=True, help_text=(
        "The posting-queue slot this target fills (equal to scheduled_at); empty for a post given its own time."))

    first_comment = models.TextField(blank=True, default="")
    first_comment_id = models.CharField(max_length=128, blank=True, default="")
    first_comment_status = models.CharField(max_length=16, choices=CommentStatus.choices, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "account"], name="uniq_target_per_account"),
            # One target per account and slot instant, enforced by the database: of two requests taking the
            # same "next free slot" at once, only one INSERT succeeds; the other moves on to the next slot.
            models.UniqueConstraint(fields=["account", "slot_at"], name="uniq_queue_slot",
                                    condition=models.Q(slot_at__isnull=False, status__in=HOLDS_SLOT)),
        ]
        indexes = [
            # publish_due: WHERE status = 'scheduled' AND scheduled_at <= now
            models.Index(fields=["status", "scheduled_at"], name="target_status_scheduled"),
            models.Index(fields=["publish_id"], name="target_publish_id"),
        ]

    def __str__(self) -> str:
        return f"Target {self.pk} ({self.account.platform}, {self.status})"

    @property
    def platform(self) -> str:
        return self.account.platform

    def is_due(self) -> bool:
        return self.status == TargetStatus.SCHEDULED and (self.scheduled_at is None or self.scheduled_at <= timezone.now())


class PostingSchedule(models.Model):
    """An account's posting queue: weekly local times (in the workspace's timezone) posts can be put in."""

    account = models.OneToOneField(SocialAccount, on_delete=models.CASCADE, related_name="posting_schedule")
    paused = models.BooleanField(default=False, help_text=(
        "Paused: no post takes a slot, and queued posts whose slot comes are held back until it is resumed."))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Posting schedule of {self.account}"


class Weekday(models.IntegerChoices):
    MON = 0, "Monday"
    TUE = 1, "Tuesday"
    WED = 2, "Wednesday"
    THU = 3, "Thursday"
    FRI = 4, "Friday"
    SAT = 5, "Saturday"
    SUN = 6, "Sunday"


class ScheduleTime(models.Model):
    schedule = models.ForeignKey(PostingSchedule, on_delete=models.CASCADE, related_name="times")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    time = models.TimeField(help_text="Local wall-clock time in the workspace's timezone (minutes; seconds are dropped).")

    class Meta:
        ordering = ["weekday", "time"]
        constraints = [models.UniqueConstraint(fields=["schedule", "weekday", "time"], name="uniq_schedule_time")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.time:%H:%M}"


def get_post_in_workspace(workspace, post_id: int) -> Post:
    """One post of the workspace, or Post.DoesNotExist (the API answers 404)."""
    return Post.objects.filter(workspace=workspace).get(pk=post_id)
