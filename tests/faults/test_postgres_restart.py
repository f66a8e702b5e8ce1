"""PostgreSQL restarted under load: web answers 503 while it is down and recovers without a restart."""

import threading
import time
from collections import Counter

import pytest
import requests

from tests.servers import Gunicorn, manage, server_env, wait_for

pytestmark = pytest.mark.faults


def test_web_answers_503_while_postgres_is_down_and_recovers_without_restart(private_postgres):
    env = server_env(private_postgres.url)
    manage(env, "migrate", "--noinput")
    token = manage(env, "shell", "-c", (
        "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
        "u, _ = get_user_model().objects.get_or_create(username='loaduser');"
        "print(Token.objects.get_or_create(user=u)[0].key)"
    )).strip().splitlines()[-1]  # Django 5.2's shell prints an import summary first
    server = Gunicorn(env)
    headers = {"Authorization": f"Token {token}"}
    statuses: Counter = Counter()
    stop = threading.Event()

    retry_after: Counter = Counter()

    def load():
        while not stop.is_set():
            for path in ("/api/v1/accounts/", "/healthz"):
                try:
                    response = requests.get(server.base + path, headers=headers, timeout=5)
                except requests.RequestException:
                    statuses["no answer"] += 1
                    continue
                statuses[response.status_code] += 1
                if response.status_code == 503:
                    retry_after[response.headers.get("Retry-After")] += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    try:
        assert requests.get(server.base + "/api/v1/accounts/", headers=headers, timeout=5).status_code == 200
        for t in threads:
            t.start()
        time.sleep(2)
        private_postgres.stop()
        try:
            # (a 503 Response is falsy, so the predicate returns a tuple)
            down = wait_for(lambda: (r := requests.get(server.base + "/api/v1/accounts/", headers=headers, timeout=5)).status_code == 503 and (r,))[0]
        except TimeoutError:
            last = requests.get(server.base + "/api/v1/accounts/", headers=headers, timeout=5)
            raise AssertionError(f"never 503 while down: {last.status_code} {last.text[:300]} {statuses}") from None
        assert down.json()["error"]["code"] == "service_unavailable" and down.headers["Retry-After"] == "5"
        assert requests.get(server.base + "/healthz", timeout=5).status_code == 503
        time.sleep(2)
        private_postgres.start()
        wait_for(lambda: requests.get(server.base + "/api/v1/accounts/", headers=headers, timeout=5).status_code == 200, timeout=30)
        assert requests.get(server.base + "/healthz", timeout=5).json()["database"] == "ok"
        assert server.proc.poll() is None  # the same server process recovered by itself
    finally:
        stop.set()
        for t in threads:
            if t.is_alive():
                t.join(timeout=10)
        server.stop()
    assert set(statuses) <= {200, 503, "no answer"}, statuses  # never a 500 or anything else
    assert statuses[503] > 0 and statuses[200] > 0, statuses
    assert statuses["no answer"] <= statuses[503] // 10, statuses  # a stopped database fails fast, it does not hang
    assert set(retry_after) == {"5"}, retry_after  # every 503 tells the client when to come back
