"""The words benchmark's reading of a card's own keyword (its independence from the product:
tests/benchmarks/test_titles_check.py)."""

from __future__ import annotations

from benchmarks.checks.keywords import own_keyword


def test_a_keyword_matches_whole_ignoring_case_quotes_and_hyphens() -> None:
    keywords = ["san francisco", "time-travel"]
    assert own_keyword("San Francisco", keywords) and own_keyword("'Time Travel'", keywords)
    assert not own_keyword("Francisco", keywords) and not own_keyword("San Francisco Bay", keywords)
    assert not own_keyword("", keywords) and not own_keyword("San Francisco", [])
