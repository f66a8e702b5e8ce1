"""The README and docs/ lead somewhere real: relative links, `make` targets, and the settings table."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    prose = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", prose, flags=re.M)}


def _links(path: Path) -> list[str]:
    prose = CODE.sub("", path.read_text())
    return [t for t in LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(doc):
    for target in _links(doc):
        name, _, anchor = target.partition("#")
        linked = (doc.parent / name).resolve() if name else doc
        assert linked.exists(), f"{doc.name} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{doc.name} links to {target}: no such heading in {linked.name}"


def test_the_link_check_sees_the_links():
    assert {"docs/api.md", "docs/operations.md", "docs/platforms.md", "docs/contributing.md"} <= set(_links(DOCS[0]))
    assert _slug("Bad input and outages (reliability summary)") == "bad-input-and-outages-reliability-summary"


def test_every_make_target_the_readme_names_exists():
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
    for doc in DOCS:
        code = " ".join(CODE.findall(doc.read_text()))
        for named in re.findall(r"\bmake ([a-z][\w-]*)", code):
            assert named in targets, f"{doc.name} names `make {named}`, which the Makefile does not have"
    readme = " ".join(CODE.findall(DOCS[0].read_text()))
    assert {"run", "test", "demo"} <= set(re.findall(r"\bmake ([a-z][\w-]*)", readme))


def test_the_readme_shows_the_test_command_ci_runs():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in DOCS[0].read_text()


def _env_example() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))


def test_the_settings_table_and_env_example_name_the_same_variables():
    text = (ROOT / "docs" / "operations.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            documented |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    assert len(documented) > 40
    # ENV_FILE names the file itself, so it cannot be set inside it.
    assert documented - {"ENV_FILE"} == _env_example(), "docs/operations.md's settings table and .env.example differ"


def test_every_variable_the_settings_read_is_in_env_example():
    source = (ROOT / "unipulse" / "settings.py").read_text()
    read = set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]+)\"", source))
    assert len(read) > 40
    assert read - _env_example() == set()


def test_every_api_path_the_readme_walkthrough_calls_exists():
    from django.urls import Resolver404, resolve

    paths = set(re.findall(r"\$BASE(/[\w/{}.$-]*)", DOCS[0].read_text()))
    assert len(paths) >= 8
    for path in paths:
        try:
            # `$1` is connect()'s platform argument; any other variable stands for an id.
            resolve(re.sub(r"\$\w+", "1", "/api/v1" + path.replace("$1", "facebook")))
        except Resolver404:
            pytest.fail(f"README.md calls {path}, which no route serves")
