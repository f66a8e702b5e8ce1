import json

import pytest
import redis
from rest_framework.test import APIClient

from unipulse.auth import window_seconds

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


def _login(client, username="alice", password="wrong", ip="203.0.113.7"):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json",
                       REMOTE_ADDR=ip)


def test_password_logins_beyond_the_rate_per_ip_get_a_json_429_with_retry_after(user, settings):
    settings.AUTH_TOKEN_RATE = "3/m"
    client = APIClient()
    answers = [_login(client, username=f"guess{i}") for i in range(4)]
    assert [a.status_code for a in answers[:3]] == [400, 400, 400]  # wrong password, other usernames: same IP
    assert answers[3].status_code == 429
    assert answers[3]["Retry-After"] == "60"
    assert answers[3].json() == {"error": {"code": "throttled", "message": "Too many requests; try again in 60 seconds.",
                                           "fields": {}}}
    # even the right password is refused while the IP is over its allowance, and another IP is not
    assert _login(client, password="pw-alice-123").status_code == 429
    assert _login(client, password="pw-alice-123", ip="198.51.100.1").status_code == 200


def test_password_logins_beyond_the_rate_per_username_are_refused_from_any_ip(user, settings):
    settings.AUTH_TOKEN_RATE = "2/5m"
    client = APIClient()
    assert [_login(client, ip=f"198.51.100.{i}").status_code for i in range(2)] == [400, 400]
    refused = _login(client, username="ALICE", password="pw-alice-123", ip="192.0.2.50")  # case does not dodge it
    assert refused.status_code == 429 and refused["Retry-After"] == "300"
    assert "token" not in refused.json()
    assert _login(client, username="bob", ip="192.0.2.50").status_code == 400  # other usernames keep theirs


def test_a_login_within_the_rate_gets_its_token(user, settings):
    settings.AUTH_TOKEN_RATE = "10/m"
    response = _login(APIClient(), password="pw-alice-123")
    assert response.status_code == 200 and len(response.json()["token"]) == 40


def test_an_unreachable_limiter_cache_follows_ratelimit_fail_open(user, settings, monkeypatch):
    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused.")
    monkeypatch.setattr("unipulse.throttles.is_ratelimited", down)
    settings.RATELIMIT_FAIL_OPEN = True
    assert _login(APIClient(), password="pw-alice-123").status_code == 200
    settings.RATELIMIT_FAIL_OPEN = False
    assert _login(APIClient(), password="pw-alice-123").status_code == 429


@pytest.mark.parametrize(("rate", "seconds"), [("10/m", 60), ("5/15m", 900), ("100/h", 3600), ("1/d", 86400), ("3/s", 1)])
def test_window_seconds_reads_django_ratelimit_rates(rate, seconds):
    assert window_seconds(rate) == seconds


def test_a_login_without_a_remote_address_is_still_limited_not_a_500(user, settings):
    settings.AUTH_TOKEN_RATE = "1/m"
    client = APIClient(REMOTE_ADDR="")
    assert _login(client, username="x", ip="").status_code == 400
    assert _login(client, username="y", ip="").status_code == 429


def test_a_login_body_that_is_not_an_object_is_a_400_and_still_counted(user, settings):
    settings.AUTH_TOKEN_RATE = "1/m"
    client = APIClient()
    assert client.post("/api/v1/auth/token/", [None, None], format="json").status_code == 400
    assert client.post("/api/v1/auth/token/", [None, None], format="json").status_code == 429


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


@pytest.mark.parametrize(("proxies", "remote", "forwarded", "expected"), [
    (0, "203.0.113.7", "198.51.100.9", "203.0.113.7"),  # no trusted proxy: the header is the client's word, ignored
    (1, "10.0.0.2", "198.51.100.9", "198.51.100.9"),  # one load balancer: the address it saw
    (1, "10.0.0.2", "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # a spoofed entry to the left is never read
    (2, "10.0.0.3", "6.6.6.6, 198.51.100.9, 10.0.0.2", "198.51.100.9"),  # CDN + load balancer
    (2, "10.0.0.2", "198.51.100.9", "198.51.100.9"),  # fewer entries than proxies: the left-most there is
    (1, "10.0.0.2", "", "10.0.0.2"),  # no header: the connecting address
    (1, "10.0.0.2", "not-an-ip", "0.0.0.0"),  # garbage: one shared bucket, never a 500
    (0, "", "", "0.0.0.0"),  # a unix socket: one shared bucket
    (1, "10.0.0.2", " 2001:db8::1 ", "2001:db8::1"),
    # a dual-stack proxy's IPv4-mapped form is the IPv4 client, not one /64 shared by every IPv4 client
    (1, "10.0.0.2", "::ffff:203.0.113.7", "203.0.113.7"),
    (0, "::ffff:198.51.100.4", "", "198.51.100.4"),
    # a port written after the address (some load balancers) is dropped, not a shared bucket
    (1, "10.0.0.2", "203.0.113.7:51234", "203.0.113.7"),
    (1, "10.0.0.2", "[2001:db8::1]:51234", "2001:db8::1"),
])
def test_client_ip_trusts_x_forwarded_for_only_as_far_as_the_configured_proxies(settings, proxies, remote, forwarded,
                                                                                expected):
    from django.test import RequestFactory

    from unipulse.throttles import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_behind_one_proxy_logins_are_limited_per_client_not_per_proxy(user, settings):
    settings.AUTH_TOKEN_RATE = "2/m"
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient()
    tries = iter(range(100))

    def login(client_address, spoofed=""):
        forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
        # a new username each time: only the per-IP limit can refuse
        return client.post("/api/v1/auth/token/", {"username": f"guess{next(tries)}", "password": "x"},
                           format="json", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    assert [login("203.0.113.7").status_code for _ in range(2)] == [400, 400]
    assert login("203.0.113.7").status_code == 429
    # the attacker's forged left-most entry does not move it to a fresh bucket
    assert login("203.0.113.7", spoofed="192.0.2.1").status_code == 429
    assert login("198.51.100.1").status_code == 400  # another client behind the same proxy keeps its allowance
