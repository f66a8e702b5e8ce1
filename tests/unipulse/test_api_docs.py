"""The OpenAPI schema carries the API's prose: docs/api.md is Swagger UI's front page."""

from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.mark.django_db
def test_the_schema_description_is_the_api_guide(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    description = schema["info"]["description"]
    assert description == DOC.read_text().split("\n", 1)[1].strip()
    for must in ("X-Workspace", "workspace_required", "role_required", "Idempotency-Key", "Retry-After",
                 '{"error": {"code"', "publishing-options"):
        assert must in description


def test_every_path_the_guide_names_exists():
    import re

    from django.urls import Resolver404, resolve

    # `$BASE/posts/$POST/`: a shell variable in a path stands for an id, as `{id}` does.
    paths = set(re.findall(r"\$BASE(/[\w/{}.$-]*)", DOC.read_text())) | set(re.findall(r"`(/api/v1/[\w/{}-]*)`", DOC.read_text()))
    paths -= {"/api/v1/"}  # the prefix itself, named in the prose
    assert len(paths) >= 8
    for path in paths:
        concrete = ("/api/v1" + path if path.startswith("/") and not path.startswith("/api/") else path)
        concrete = re.sub(r"\{[^}]+\}|\$\w+", "1", concrete)
        try:
            resolve(concrete)
        except Resolver404:
            pytest.fail(f"docs/api.md names {path}, which no route serves")
