"""The web layer calls services only: no module under ``cinerec/web`` imports ``cinerec.db`` or
``cinerec.llm`` (the services re-export the few types the pages show, e.g.
``cinerec.services.users.UserRecord``). Checked on the source with :mod:`ast`, every import
statement, also those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "cinerec"
FORBIDDEN = ("cinerec.db", "cinerec.llm")


def forbidden_imports(source: str) -> list[str]:
    """The modules a source imports from :data:`FORBIDDEN` packages, in order."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            continue
        for name in names:
            if any(name == p or name.startswith(p + ".") for p in FORBIDDEN):
                found.append(name)
                break
    return found


def _web_modules() -> list[Path]:
    return sorted((SRC / "web").rglob("*.py"))


def test_the_web_modules_are_found() -> None:
    assert (SRC / "web" / "routes" / "pages.py") in _web_modules()


@pytest.mark.parametrize("path", _web_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_web_modules_import_services_not_db_or_llm(path: Path) -> None:
    found = forbidden_imports(path.read_text(encoding="utf-8"))
    assert found == [], f"{path.relative_to(SRC)} imports {found}; call a service instead"


@pytest.mark.parametrize(
    "source",
    [
        "from cinerec.db import repository as repo\n",
        "from cinerec.db.repository import UserRecord\n",
        "import cinerec.llm.chat\n",
        "from cinerec import db\n",
        "def f():\n    from cinerec.llm.chat_grounding import CITATION\n",
    ],
)
def test_the_checker_finds_a_planted_import(source: str) -> None:
    assert forbidden_imports(source), source


@pytest.mark.parametrize(
    "source",
    [
        "from cinerec.services import users\n",
        "from cinerec.services.users import UserRecord\n",
        "import cinerec.dbx\n",  # a name that only starts like one
        "from . import deps\n",
    ],
)
def test_the_checker_passes_services(source: str) -> None:
    assert forbidden_imports(source) == [], source
