"""Imports run one way: data <- models (recommenders, text, embeddings, reviews, llm, ranking,
evaluation, db) <- services/jobs <- web/cli. A module may import its own layer and the layers
below it, never a layer above (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

LAYERS: dict[str, int] = {
    # 0: the ground everyone stands on
    "": 0, "config": 0, "errors": 0, "data": 0,
    # 1: models and storage (peers may import each other)
    "db": 1, "recommenders": 1, "text": 1, "embeddings": 1, "reviews": 1, "llm": 1,
    "ranking": 1, "evaluation": 1,
    # 2: orchestration
    "services": 2, "jobs": 2, "batch": 2,
    # 3: the doors
    "web": 3, "cli": 3,
}  # fmt: skip


def _package(module: str) -> str:
    """``cinerec.llm.chat.prompt`` -> ``llm``; ``cinerec`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: len(module.split(".")) - (0 if is_package else 1)]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return [(line, name) for line, name in found if name.split(".")[0] == "cinerec"]


def upward_imports(src: Path) -> list[str]:
    """``path:line: a -> b`` for every import of a higher layer (or of an unlisted package)."""
    problems = []
    root = src / "cinerec"
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(src).with_suffix("")
        is_package = rel.name == "__init__"
        module = ".".join(rel.parts[:-1] if is_package else rel.parts)
        here = _package(module)
        if here not in LAYERS:
            problems.append(f"{path.relative_to(src)}: package {here!r} has no layer")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, name in _imported(tree, module, is_package):
            there = _package(name)
            if LAYERS.get(there, 99) > LAYERS[here]:
                problems.append(f"{path.relative_to(src)}:{line}: {here or 'cinerec'} -> {name}")
    return problems


def test_no_module_imports_a_higher_layer() -> None:
    assert upward_imports(SRC) == []


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    pkg = tmp_path / "cinerec"
    (pkg / "text").mkdir(parents=True)
    (pkg / "services").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "services" / "__init__.py").write_text("")
    (pkg / "services" / "platform.py").write_text("from cinerec.text.taste import parse_taste\n")
    (pkg / "text" / "__init__.py").write_text("")
    (pkg / "text" / "taste.py").write_text(
        "def parse_taste():\n    from cinerec.services.platform import Platform\n"
    )
    (pkg / "text" / "ok.py").write_text("from . import taste\nfrom cinerec.data import types\n")
    (pkg / "text" / "up.py").write_text("from ..web import app\n")
    problems = upward_imports(tmp_path)
    assert problems == [
        "cinerec/text/taste.py:2: text -> cinerec.services.platform",
        "cinerec/text/up.py:1: text -> cinerec.web",
    ]


def test_a_new_package_must_be_given_a_layer(tmp_path: Path) -> None:
    (tmp_path / "cinerec" / "gadgets").mkdir(parents=True)
    (tmp_path / "cinerec" / "gadgets" / "__init__.py").write_text("")
    expected = "cinerec/gadgets/__init__.py: package 'gadgets' has no layer"
    assert upward_imports(tmp_path) == [expected]
