"""Webhook emitter: new comments and DMs on sandbox Pages, and TikTok publish events, delivered to the
real webhook endpoints with the platforms' signatures, so the inbox fills up by itself.

Meta: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(app secret, raw body) (platform-apis.md §1.8).
TikTok: TikTok-Signature = "t=<unix>,s=<hex HMAC-SHA256(client secret, f"{t}.{raw body}")>" (§2.5).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import requests
from django.conf import settings

from . import clock
from .models import (
    Comment,
    Conversation,
    DirectMessage,
    InstagramAccount,
    Page,
    Post,
    PublishJob,
    new_numeric_id,
)
from .seed import FANS
from .tiktok import advance_jobs, publish_state

logger = logging.getLogger(__name__)

COMMENT_TEXTS = ["Love this! 😍", "Is this available in blue?", "What time do you open tomorrow?",
                 "Great post 👏", "Can I order online?", "Where is this?"]
DM_TEXTS = ["Hi! Do you deliver on Sundays?", "Hello, is the shop open today?", "Can I book a table for two?",
            "Thanks for the quick answer last time!", "Do you have gift cards?"]
IG_FANS = [("2345670000000001", "claire.voyage"), ("2345670000000002", "tom_b"), ("2345670000000003", "mila.reads")]

# (url, raw body, headers) -> HTTP status; replaced in tests so nothing leaves the process.
Sender = Callable[[str, bytes, dict], int]


@dataclass
class Delivery:
    platform: str
    kind: str
    status: int  # 0: the endpoint could not be reached


@dataclass
class ActivitySummary:
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if not 200 <= d.status < 300]

    def line(self) -> str:
        kinds: dict[str, int] = {}
        for d in self.deliveries:
            kinds[d.kind] = kinds.get(d.kind, 0) + 1
        parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "nothing new"
        return f"Sandbox activity: {parts}; {len(self.deliveries) - len(self.failed)} delivered, {len(self.failed)} failed."


def http_send(url: str, body: bytes, headers: dict) -> int:
    try:
        return requests.post(url, data=body, headers=headers, timeout=10).status_code
    except requests.RequestException as error:
        logger.warning("Sandbox webhook to %s failed: %s", url, type(error).__name__)
        return 0


def emit_activity(*, comments: int = 1, dms: int = 1, send: Sender | None = None,
                  track: Callable[[list[Page]], Iterable[Page]] = iter) -> ActivitySummary:
    """Create `comments` comments and `dms` DMs per subscribed Page (and its Instagram account) and deliver
    them, plus TikTok post.publish.* events for publishes that moved on. Safe to call on a schedule.
    `track` wraps the list of Pages (the command's progress bar)."""
    send = send or http_send
    summary = ActivitySummary()
    for page in track(list(Page.objects.select_related("owner").order_by("page_id"))):
        fields = set(page.subscribed_fields or [])
        ig = InstagramAccount.objects.filter(page=page).first()
        # An Instagram Login account subscribed by itself gets its events whether or not its Page is, and
        # they are signed by the Instagram app (its own secret), as Meta does.
        own = set(ig.subscribed_fields or []) if ig else set()
        secret = settings.INSTAGRAM_APP_SECRET if own else None
        for _ in range(comments if "feed" in fields else 0):
            summary.deliveries.append(_deliver_meta(send, "feed comment", feed_comment_event(create_comment(page))))
        for _ in range(comments if ig and ("feed" in fields or "comments" in own) else 0):
            summary.deliveries.append(_deliver_meta(send, "instagram comment",
                                                    instagram_comment_event(create_comment(page, ig)), secret))
        for _ in range(dms if "messages" in fields else 0):
            summary.deliveries.append(_deliver_meta(send, "messenger message", message_event(create_dm(page))))
        for _ in range(dms if ig and ("messages" in fields or "messages" in own) else 0):
            summary.deliveries.append(_deliver_meta(send, "instagram message",
                                                    message_event(create_dm(page, platform="instagram")), secret))
    summary.deliveries.extend(emit_tiktok_events(send))
    return summary


def run_scheduled_activity() -> str:
    """For the scheduler: one round of activity when the sandbox is on; returns the summary line.

    With SANDBOX_ACTIVITY off, no fan comments or DMs; TikTok publish events still go out.
    """
    if not settings.SOCIAL_SANDBOX:
        return "Sandbox activity: the sandbox is off."
    per_page = 1 if settings.SANDBOX_ACTIVITY else 0
    return emit_activity(comments=per_page, dms=per_page).line()


# ---- creating activity --------------------------------------------------------------------------

def _pick(options: list, salt: int = 0):
    return options[(int(clock.now().timestamp()) + salt) % len(options)]


def create_comment(page: Page, ig: InstagramAccount | None = None) -> Comment:
    """A fan's comment on the latest Facebook post (or Instagram media), creating one if there is none."""
    if ig is None:
        post = Post.objects.filter(page=page, network=Post.Network.FACEBOOK, is_published=True).first() or \
            Post.objects.create(post_id=f"{page.page_id}_{new_numeric_id()}", network=Post.Network.FACEBOOK,
                                page=page, media_type="status", message="Hello from the sandbox")
        author_id, author_name = _pick(FANS, Comment.objects.count())
        comment_id = f"{post.post_id.split('_')[-1]}_{new_numeric_id()}"
    else:
        post = Post.objects.filter(instagram=ig).exclude(product_type="STORY").first() or Post.objects.create(
            post_id=new_numeric_id(17), network=Post.Network.INSTAGRAM, instagram=ig, media_type="IMAGE",
            product_type="FEED", message="Hello from the sandbox")
        author_id, author_name = _pick(IG_FANS, Comment.objects.count())
        comment_id = new_numeric_id(17)
    return Comment.objects.create(comment_id=comment_id, post=post, author_id=author_id, author_name=author_name,
                                  message=_pick(COMMENT_TEXTS, Comment.objects.count()))


def create_dm(page: Page, platform: str = "messenger") -> DirectMessage:
    """An inbound message from a fan to the Page (messenger) or its Instagram account (instagram)."""
    fans = IG_FANS if platform == "instagram" else FANS
    fan_id, fan_name = _pick(fans, DirectMessage.objects.count())
    conversation, _ = Conversation.objects.get_or_create(
        page=page, platform=platform, participant_id=fan_id,
        defaults={"thread_id": f"t_{new_numeric_id()}", "participant_name": fan_name},
    )
    own_id = page.instagram.ig_id if platform == "instagram" else page.page_id
    message = DirectMessage.objects.create(mid=f"m_{secrets.token_urlsafe(24)}", conversation=conversation,
                                           from_id=fan_id, to_id=own_id, text=_pick(DM_TEXTS, conversation.pk))
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=message.created_at)
    return message


# ---- Meta payloads (platform-apis.md §1.8) ------------------------------------------------------

def _epoch(moment) -> int:
    return int(moment.timestamp())


def feed_comment_event(comment: Comment) -> dict:
    post, page = comment.post, comment.post.page
    value = {
        "item": "comment", "verb": "add", "comment_id": comment.comment_id, "post_id": post.post_id,
        "parent_id": comment.parent.comment_id if comment.parent_id else post.post_id,
        "from": {"id": comment.author_id, "name": comment.author_name}, "message": comment.message,
        "created_time": _epoch(comment.created_at),
        "post": {"id": post.post_id, "status_type": "mobile_status_update", "is_published": True},
    }
    return {"object": "page", "entry": [{"id": page.page_id, "time": _epoch(clock.now()),
                                         "changes": [{"field": "feed", "value": value}]}]}


def instagram_comment_event(comment: Comment) -> dict:
    media = comment.post
    value = {"from": {"id": comment.author_id, "username": comment.author_name},
             "media": {"id": media.post_id, "media_product_type": media.product_type or "FEED"},
             "id": comment.comment_id, "text": comment.message}
    if comment.parent_id:
        value["parent_id"] = comment.parent.comment_id
    return {"object": "instagram", "entry": [{"id": media.instagram.ig_id, "time": _epoch(clock.now()),
                                              "changes": [{"field": "comments", "value": value}]}]}


def message_event(message: DirectMessage) -> dict:
    conversation = message.conversation
    millis = int(message.created_at.timestamp() * 1000)
    return {"object": "instagram" if conversation.platform == "instagram" else "page", "entry": [{
        "id": message.to_id, "time": millis,
        "messaging": [{"sender": {"id": message.from_id}, "recipient": {"id": message.to_id}, "timestamp": millis,
                       "message": {"mid": message.mid, "text": message.text}}],
    }]}


def meta_signature(body: bytes, secret: str | None = None) -> str:
    """The Facebook app's signature, or (with `secret`) the Instagram app's of the Instagram Login path."""
    key = settings.FACEBOOK_APP_SECRET if secret is None else secret
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def _deliver_meta(send: Sender, kind: str, payload: dict, secret: str | None = None) -> Delivery:
    # Meta sends escaped unicode (ensure_ascii); the signature covers exactly these bytes.
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(body, secret),
               "User-Agent": "facebookexternalua"}
    status = send(f"{settings.PUBLIC_BASE_URL}/api/v1/webhooks/meta", body, headers)
    return Delivery(platform="meta", kind=kind, status=status)


# ---- TikTok events (platform-apis.md §2.5) ------------------------------------------------------

def tiktok_events_due(job: PublishJob) -> list[tuple[str, dict]]:
    """The post.publish.* events this job's current state calls for, not yet sent."""
    state = publish_state(job)
    publish_type = "INBOX_SHARE" if job.mode == "MEDIA_UPLOAD" else "DIRECT_PUBLISH"
    due = []
    if state["status"] == "FAILED":
        due.append(("post.publish.failed", {"publish_id": job.publish_id, "reason": job.fail_reason,
                                            "publish_type": publish_type}))
    elif state["status"] == "SEND_TO_USER_INBOX":
        due.append(("post.publish.inbox_delivered", {"publish_id": job.publish_id, "publish_type": publish_type}))
    elif state["status"] == "PUBLISH_COMPLETE":
        due.append(("post.publish.complete", {"publish_id": job.publish_id, "publish_type": publish_type}))
        if state["publicaly_available_post_id"]:
            due.append(("post.publish.publicly_available", {
                "publish_id": job.publish_id, "post_id": str(state["publicaly_available_post_id"][0]),
                "publish_type": publish_type}))
    return [(event, content) for event, content in due if event not in job.notified]


def tiktok_signature(timestamp: int, body: bytes) -> str:
    digest = hmac.new(settings.TIKTOK_CLIENT_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},s={digest.hexdigest()}"


def emit_tiktok_events(send: Sender) -> list[Delivery]:
    deliveries = []
    jobs = list(PublishJob.objects.select_related("creator", "post").order_by("id"))
    advance_jobs(jobs)
    for job in jobs:
        for event, content in tiktok_events_due(job):
            now = _epoch(clock.now())
            body = json.dumps({"client_key": settings.TIKTOK_CLIENT_KEY, "event": event, "create_time": now,
                               "user_openid": job.creator.open_id,
                               "content": json.dumps(content, separators=(",", ":"))},
                              separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "TikTok-Signature": tiktok_signature(now, body)}
            status = send(f"{settings.PUBLIC_BASE_URL}/api/v1/webhooks/tiktok", body, headers)
            deliveries.append(Delivery(platform="tiktok", kind=event, status=status))
            if 200 <= status < 300:  # an undelivered event is retried next round, as TikTok retries
                job.notified = [*job.notified, event]
                PublishJob.objects.filter(pk=job.pk).update(notified=job.notified)
    return deliveries
