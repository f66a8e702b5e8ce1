"""docs/api-reference.md's permission table is the one workspaces/permissions.py enforces."""

from pathlib import Path

from workspaces.permissions import permission_table_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "api-reference.md"


def test_the_api_reference_shows_the_permission_table_the_code_enforces():
    text = DOC.read_text()
    shown = text.split("<!-- permissions:start -->\n", 1)[1].split("\n<!-- permissions:end -->", 1)[0]
    assert shown == permission_table_markdown()
