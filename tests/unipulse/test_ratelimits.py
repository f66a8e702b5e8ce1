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
