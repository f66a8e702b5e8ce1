import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    from unipulse import health

    def broken_cursor(*args, **kwargs):
        from django.db.utils import OperationalError

        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {"status": "unavailable", "database": "OperationalError", "broker": response.json()["broker"]}


def test_healthz_is_503_when_redis_is_unreachable(client, settings):
    settings.BROKER_MODE = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["broker"] == "ConnectionError"
    assert response.json()["database"] == "ok"


def test_healthz_reports_the_embedded_broker_without_redis(client, settings):
    settings.BROKER_MODE = "embedded"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "embedded"


def test_api_answers_503_not_500_while_the_database_is_down(api_client, monkeypatch):
    from django.db.utils import OperationalError

    from social import api

    def down(self):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(api.SocialAccountViewSet, "get_queryset", down)
    response = api_client.get("/api/v1/accounts/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"
