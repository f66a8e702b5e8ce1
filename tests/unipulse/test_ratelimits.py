import json

import pytest

pytestmark = pytest.mark.django_db


def test_writes_beyond_the_per_user_rate_get_a_json_429_with_retry_after(api_client, settings):
    settings.API_WRITE_RATE = "3/m"
    answers = [api_client.post("/api/v1/posts/", {"text": "x", "accounts": [999999]}, format="json") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [400, 400, 400]  # validation errors still count as writes
    limited = answers[3]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert limited.json() == {"error": {"code": "throttled", "message": "Too many requests; try again in 60 seconds.", "fields": {}}}


def test_reads_are_not_limited_by_the_write_rate(api_client, settings):
    settings.API_WRITE_RATE = "1/m"
    assert [api_client.get("/api/v1/posts/").status_code for _ in range(3)] == [200, 200, 200]


def test_another_users_write_allowance_is_separate(api_client, other_client, settings):
    settings.API_WRITE_RATE = "1/m"
    assert api_client.post("/api/v1/posts/", {}, format="json").status_code == 400
    assert api_client.post("/api/v1/posts/", {}, format="json").status_code == 429
    assert other_client.post("/api/v1/posts/", {}, format="json").status_code == 400


def test_webhooks_are_never_rate_limited(client, settings):
    settings.API_WRITE_RATE = "1/m"
    codes = [client.post("/api/v1/webhooks/meta", b"{}", content_type="application/json").status_code for _ in range(3)]
    assert codes == [403, 403, 403]  # unsigned: refused for the signature, never for the rate


def test_signed_deliveries_beyond_the_write_rate_are_all_accepted_and_stored(client, user, settings):
    from conversations.models import WebhookEvent
    from tests.conversations.conftest import meta_signature, tiktok_signature

    settings.API_WRITE_RATE = "2/m"
    client.force_login(user)  # this client's allowance is spent first: the rate is really in force
    writes = [client.post("/api/v1/posts/", {}, content_type="application/json").status_code for _ in range(3)]
    assert writes == [400, 400, 429]
    answers = []
    for n in range(6):  # distinct bodies, so that none is a repeat; all from one IP
        meta = json.dumps({"object": "page", "entry": [{"id": "104523678912345", "time": 1700000000 + n, "changes": [
            {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": f"1_{n}", "message": "hi"}}]}]})
        answers.append(client.generic("POST", "/api/v1/webhooks/meta", meta.encode(), content_type="application/json",
                                      HTTP_X_HUB_SIGNATURE_256=meta_signature(meta.encode())))
        tiktok = json.dumps({"client_key": "test-client-key", "event": "post.publish.complete",
                             "create_time": 1700000000 + n, "user_openid": "open-1",
                             "content": json.dumps({"publish_id": f"v_pub_{n}", "publish_type": "DIRECT_PUBLISH"})})
        answers.append(client.generic("POST", "/api/v1/webhooks/tiktok", tiktok.encode(), content_type="application/json",
                                      HTTP_TIKTOK_SIGNATURE=tiktok_signature(tiktok.encode())))

    assert [a.status_code for a in answers] == [200] * 12
    assert WebhookEvent.objects.filter(platform="meta").count() == 6
    assert WebhookEvent.objects.filter(platform="tiktok").count() == 6
    assert client.post("/api/v1/posts/", {}, content_type="application/json").status_code == 429  # still spent
