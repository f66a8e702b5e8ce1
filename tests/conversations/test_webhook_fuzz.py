"""Hypothesis fuzz over the webhook routers: any signed JSON object, however odd its shape or text, is
answered 200, stored once and ends `processed` or `ignored`; routing it never raises."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import WebhookEvent
from conversations.services import process_webhook_event

from .conftest import IG_ID, PAGE_ID, TIKTOK_OPEN_ID

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])

text = st.one_of(st.text(max_size=12), st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "١٢٣", ""]))
leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text)
anything = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                        max_leaves=8)


def maybe(strategy):
    """Mostly the documented shape, sometimes any JSON value in its place."""
    return st.one_of(strategy, strategy, anything)


def obj(**fields):
    return st.fixed_dictionaries({}, optional={name: maybe(strategy) for name, strategy in fields.items()})


author = obj(id=st.sampled_from(["8765432109876543", PAGE_ID, IG_ID]), name=text, username=text)
value = obj(item=st.just("comment"), verb=st.sampled_from(["add", "edited", "remove", "hide", "unhide"]),
            comment_id=text, id=text, post_id=text, parent_id=text, message=text, text=text, photo=text,
            created_time=st.integers(), media=obj(id=text), **{"from": author})
change = obj(field=st.sampled_from(["feed", "comments", "mention"]), value=value)
message = obj(mid=text, text=text, is_echo=st.booleans(), is_deleted=st.booleans(), attachments=st.lists(anything))
messaging = obj(sender=obj(id=text), recipient=obj(id=text), timestamp=st.integers(), message=message)
entry = obj(id=st.sampled_from([PAGE_ID, IG_ID]), changes=st.lists(maybe(change), max_size=3),
            messaging=st.lists(maybe(messaging), max_size=2))
meta_payload = obj(object=st.sampled_from(["page", "instagram", "user"]), entry=st.lists(maybe(entry), max_size=3))
tiktok_content = obj(publish_id=text, post_id=text, reason=st.one_of(st.integers(0, 6), text))
tiktok_payload = obj(
    event=st.sampled_from(["authorization.removed", "post.publish.complete", "post.publish.failed",
                           "post.publish.publicly_available", "video.upload.failed"]),
    user_openid=st.just(TIKTOK_OPEN_ID), create_time=st.integers(),
    content=st.one_of(tiktok_content.map(json.dumps), anything))


def check_routed(response, body: bytes) -> None:
    assert response.status_code == 200
    event = WebhookEvent.objects.get(dedupe_key=hashlib.sha256(body).hexdigest())
    process_webhook_event(event.pk)  # any exception fails the test
    event.refresh_from_db()
    assert event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED), event.error


@FUZZ
@given(payload=meta_payload)
def test_any_signed_meta_payload_is_processed_or_ignored_never_an_error(post_meta, sent_events, page, ig_account, payload):
    body = json.dumps(payload).encode()
    check_routed(post_meta(body), body)


@FUZZ
@given(payload=tiktok_payload)
def test_any_signed_tiktok_payload_is_processed_or_ignored_never_an_error(post_tiktok, sent_events, tiktok_account,
                                                                           payload):
    body = json.dumps(payload).encode()
    check_routed(post_tiktok(body), body)


@FUZZ
@given(payload=st.dictionaries(text, anything, max_size=4))
def test_any_signed_json_object_at_all_is_processed_or_ignored(post_meta, sent_events, payload):
    body = json.dumps(payload).encode()
    check_routed(post_meta(body), body)
