"""The floors of the house, checked: every import in product code points down (docs/architecture.md).

Imports inside functions count too: a call-time import is still a dependency, only a hidden one.
Cross-app reactions go through unipulse/hooks.py instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GROUND = "unipulse"
DOMAIN = ("tokens", "publishing", "analytics", "conversations", "events")
# What each app may import besides itself. The sandbox is the top floor: it may use anything, nothing uses it.
MAY_IMPORT = {
    GROUND: set(),
    "workspaces": {GROUND},
    "social": {GROUND, "workspaces"},
    **{app: {GROUND, "workspaces", "social"} for app in DOMAIN},
    "sandbox": {GROUND, "workspaces", "social", *DOMAIN},
}


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, relative ones resolved against `package`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for app, allowed in MAY_IMPORT.items():
        for path in sorted((root / app).rglob("*.py")):
            package = ".".join(path.relative_to(root).parts[:-1])  # a module's package, or an __init__'s own
            for line, module in imported_modules(path, package):
                target = module.split(".")[0]
                if target in MAY_IMPORT and target != app and target not in allowed:
                    found.append(f"{path.relative_to(root)}:{line} imports {module} ({app} may import only "
                                 f"{', '.join(sorted(allowed)) or 'nothing of UniPulse'})")
    return found


def test_every_import_points_down_the_floors():
    assert violations() == []


def test_every_app_is_on_a_floor():
    """A new top-level app must be given its floor here before its imports can be checked."""
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(MAY_IMPORT), f"not on a floor: {sorted(apps - set(MAY_IMPORT))}"


@pytest.mark.parametrize(("app", "source", "bad"), [
    ("publishing", "from analytics.services import x\n", True),
    ("publishing", "def f():\n    from analytics import services\n", True),  # hidden in a function
    ("social", "import publishing.models\n", True),
    ("unipulse", "from social.crypto import decode_key\n", True),
    ("workspaces", "from ..social import models\n", True),  # a relative import leaving the app
    ("conversations", "from sandbox import graph\n", True),
    ("sandbox", "from publishing.models import Post\n", False),
    ("analytics", "from unipulse import hooks\nfrom social.models import SocialAccount\n", False),
])
def test_the_check_catches_an_upward_import(tmp_path, app, source, bad):
    (tmp_path / app).mkdir()
    (tmp_path / app / "module.py").write_text(source)
    assert bool(violations(tmp_path)) is bad
