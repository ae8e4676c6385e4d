"""benchmarks/README.md names every result file, and every file it names exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
MAP = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
PATH = re.compile(r"benchmarks/results/[\w./-]+")


def _named() -> set[str]:
    """Paths the map names as results (not the ``--out`` stems of its commands): full paths in
    a row's result (first) cell, or its file (second) cell in the README-row table, plus the
    sibling files listed after the first path (`chat_facts.md`, `.md`)."""
    names: set[str] = set()
    for line in MAP.splitlines():
        cells = line.split(" | ")
        cell = cells[0] if PATH.search(cells[0]) or len(cells) < 2 else cells[1]
        full = [p.rstrip(".") for p in PATH.findall(cell)]
        names.update(full)
        if not full:
            continue
        base = Path(full[0])
        for extra in re.findall(r"`([\w.-]*\.[a-z]+)`", cell):  # file names only
            if extra.startswith("."):
                names.add(str(base.with_suffix("")) + extra)
            else:
                names.add(str(base.with_name(extra)))
    return names


def test_every_result_file_is_in_the_map() -> None:
    named = _named()
    files = [p for p in RESULTS.iterdir() if p.is_file()]
    protocols = [p for p in (RESULTS / "protocols").iterdir() if p.is_dir()]
    missing = [
        str(p.relative_to(REPO))
        for p in [*files, *protocols]
        if str(p.relative_to(REPO)) not in named
    ]
    assert not missing, f"add these to benchmarks/README.md: {missing}"


def test_every_path_in_the_map_exists() -> None:
    named = _named()
    assert len(named) > 50, "the map names too few results"
    absent = sorted(p for p in named if not (REPO / p).exists())
    assert not absent, f"benchmarks/README.md names missing files: {absent}"


def test_every_readme_figure_source_is_in_the_map() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Where the numbers stand", 1)[1].split("\n## ", 1)[0]
    cited = {p.rstrip("./") for p in PATH.findall(table)}
    named = _named()
    assert not sorted(cited - named), "README cites results the map does not list"
