"""The words benchmark's reading of a card's own keyword: not a title claim, and its own code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.checks.keywords import own_keyword

REPO = Path(__file__).resolve().parents[2]


def test_a_keyword_matches_whole_ignoring_case_quotes_and_hyphens() -> None:
    keywords = ["san francisco", "time-travel"]
    assert own_keyword("San Francisco", keywords) and own_keyword("'Time Travel'", keywords)
    assert not own_keyword("Francisco", keywords) and not own_keyword("San Francisco Bay", keywords)
    assert not own_keyword("", keywords) and not own_keyword("San Francisco", [])


def test_it_does_not_import_the_product() -> None:
    code = (
        "import sys, benchmarks.checks.keywords; "
        "bad = [m for m in sys.modules if m.startswith('cinerec')]; "
        "assert not bad, bad"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
