"""benchmarks/persona_taste.py: what counts as an invented taste, and the agreement counts."""

from __future__ import annotations

from benchmarks.persona_taste import _agreement, invented_tastes
from cinerec.data.types import Movie

TICKS = [Movie(1, "Toy Story", 1995, ("Animation", "Children", "Comedy"))]


def test_invented_moods_and_genres_are_flagged_and_the_tastes_own_are_not() -> None:
    text = (
        "This viewer enjoys quirky indie romances and horror films. They find them emotionally "
        "resonant."
    )
    flags = invented_tastes(text, taste="quirky indie romances", history=TICKS, language="en")
    assert [f.split(" (")[0] for f in flags] == [
        "genre 'horror'",
        "mood 'emotionally resonant'",
    ]
    assert (
        invented_tastes("This viewer enjoys comedy.", taste="", history=TICKS, language="en") == []
    )


def test_agreement_counts_each_verdict_against_its_label() -> None:
    scored = [
        {"run": "a", "page": 0, "flags": ["mood"]},
        {"run": "a", "page": 1, "flags": []},
        {"run": "a", "page": 2, "flags": ["mood"]},
        {"run": "a", "page": 3, "flags": []},
    ]
    labels = {("a", 0): True, ("a", 1): True, ("a", 2): False, ("a", 3): False}
    got = _agreement(scored, labels, "flags")
    assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (1, 1, 1, 1)
    assert got["precision"]["value"] == 0.5 and got["recall"]["k"] == 1
