"""Every registry entry, and every wrapper that stands in for one, runs its family's contract.

A contract suite is a mixin class; a test class that inherits it (directly or through another
test class) and sets ``registry_name = "<entry>"`` runs the suite for that entry. Found with
``ast``, so nothing heavy is imported to check it. A wrapper has no registry entry of its own
but is what callers hold instead of the entry it wraps (the priority gate around the built
backend), so it runs the contract too, under the name given in :data:`WRAPPERS`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

# Entries that have nothing to run a contract on.
EXEMPT = {("backends", "none")}  # the "no model" setting builds no backend at all

# Family -> name -> the wrapper class (module:Class) that runs the contract under that name.
WRAPPERS = {
    "backends": {"gate": "cinerec.llm.backends.gate:GatedBackend"},  # every model call passes it
}


def _registries() -> dict[str, tuple[str, set[str]]]:
    """Family -> (its contract mixin, the names in its registry)."""
    from cinerec.embeddings.registry import EMBEDDERS
    from cinerec.llm.backends.registry import BACKENDS
    from cinerec.recommenders.registry import RECOMMENDERS
    from cinerec.reviews.sentiment import SENTIMENT_MODELS

    families = {
        "recommenders": ("RecommenderContract", set(RECOMMENDERS)),
        "embedders": ("EmbedderContract", set(EMBEDDERS)),
        "review models": ("ReviewModelContract", set(SENTIMENT_MODELS)),
        "backends": ("BackendContract", {str(getattr(k, "value", k)) for k in BACKENDS}),
    }
    return {
        family: (mixin, names | set(WRAPPERS.get(family, {})))
        for family, (mixin, names) in families.items()
    }


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def contract_coverage(files: Iterable[Path], mixin: str) -> set[str]:
    """The ``registry_name`` values of test classes inheriting ``mixin`` in ``files``."""
    classes: dict[str, tuple[list[str], str | None]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            name = None
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                    target, value = stmt.targets[0], stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    target, value = stmt.target, stmt.value
                else:
                    continue
                if (
                    isinstance(target, ast.Name)
                    and target.id == "registry_name"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    name = value.value
            classes[node.name] = ([_base_name(b) for b in node.bases], name)

    def inherits(cls: str, seen: frozenset[str] = frozenset()) -> bool:
        if cls == mixin:
            return True
        bases = classes.get(cls, ([], None))[0]
        return any(b not in seen and inherits(b, seen | {cls}) for b in bases)

    return {
        name
        for cls, (_, name) in classes.items()
        if name is not None and cls.startswith("Test") and inherits(cls)
    }


def missing_contracts(files: Iterable[Path]) -> list[str]:
    files = list(files)
    missing = []
    for family, (mixin, names) in _registries().items():
        covered = contract_coverage(files, mixin)
        missing += [
            f"{family}: {n!r} has no {mixin} subclass"
            for n in sorted(names - covered)
            if (family, n) not in EXEMPT
        ]
    return missing


def test_every_registry_entry_runs_its_contract() -> None:
    assert missing_contracts(TESTS.rglob("*.py")) == []


def test_every_wrapper_exists() -> None:
    import importlib

    for family, wrappers in WRAPPERS.items():
        for name, target in wrappers.items():
            module, _, cls = target.partition(":")
            assert hasattr(importlib.import_module(module), cls), f"{family}: {name} -> {target}"


def test_an_entry_without_a_contract_is_reported(tmp_path: Path) -> None:
    suite = tmp_path / "test_some.py"
    suite.write_text(
        "class RecommenderContract: ...\n"
        "class TestALS(RecommenderContract):\n    registry_name = 'als'\n"
        "class TestBase(RecommenderContract): ...\n"
        "class TestEASE(TestBase):\n    registry_name = 'ease'\n"
        "class NotATest(RecommenderContract):\n    registry_name = 'bpr'\n"
    )
    assert contract_coverage([suite], "RecommenderContract") == {"als", "ease"}
    missing = missing_contracts([suite])
    assert "recommenders: 'bpr' has no RecommenderContract subclass" in missing
    assert "recommenders: 'als' has no RecommenderContract subclass" not in missing
    assert "backends: 'gate' has no BackendContract subclass" in missing
