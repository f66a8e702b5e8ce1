"""The sandbox is the top floor: it may import the product, and no product module imports it.

Only the project wiring names it, as a string (unipulse/settings.py installs it, unipulse/urls.py mounts
it), and only when SOCIAL_SANDBOX is on.
"""

import ast

import pytest

from tests.sandbox.test_switch import ROOT

PRODUCT = ["unipulse", "workspaces", "social", "tokens", "publishing", "analytics", "conversations"]


def imported_modules(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):  # inside functions too
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("app", PRODUCT)
def test_no_product_module_imports_the_sandbox(app):
    offenders = {str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path)
                                                     if name == "sandbox" or name.startswith("sandbox."))
                 for path in (ROOT / app).rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_sandbox_is_a_top_level_app_and_social_holds_none_of_it():
    assert (ROOT / "sandbox" / "apps.py").exists()
    assert not (ROOT / "social" / "sandbox").exists()
    assert not (ROOT / "templates" / "sandbox").exists()
