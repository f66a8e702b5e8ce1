"""Schemathesis against our own OpenAPI schema: no 500 on any generated request, and every
response to a documented status code matches the schema. Runs in-process through WSGI.

With CI=true (set by .ci/run) the inputs are derandomised: the same ones every run, so a red CI run is
the change's fault. Without it every run draws new inputs and keeps exploring.
"""

import os

import pytest
import responses
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def auth_headers(db, django_user_model):
    from rest_framework.authtoken.models import Token

    user, _ = django_user_model.objects.get_or_create(username="fuzz", defaults={"email": "fuzz@example.com"})
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=os.environ.get("CI") == "true")
def test_api_never_answers_500_and_matches_its_schema(case, auth_headers):
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # no platform call reaches the internet
        response = case.call(headers=auth_headers)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
