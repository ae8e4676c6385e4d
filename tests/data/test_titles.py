"""MovieLens title parsing."""

from __future__ import annotations

import pytest

from cinerec.data.titles import parse_title, restore_article, split_title_year


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Toy Story (1995)", ("Toy Story", 1995)),
        ("Matrix, The (1999)", ("The Matrix", 1999)),
        ("Usual Suspects, The (1995)", ("The Usual Suspects", 1995)),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            ("The City of Lost Children (Cité des enfants perdus, La)", 1995),
        ),
        ("Misérables, Les (1995)", ("Les Misérables", 1995)),
        ("Atalante, L' (1934)", ("L'Atalante", 1934)),
        ("Man for All Seasons, A (1966)", ("A Man for All Seasons", 1966)),
        ("Good, the Bad and the Ugly, The (1966)", ("The Good, the Bad and the Ugly", 1966)),
        (
            "From Dusk Till Dawn 2: Texas Blood Money (1999) ",
            ("From Dusk Till Dawn 2: Texas Blood Money", 1999),
        ),
        ("Death Note: Desu nôto (2006–2007)", ("Death Note: Desu nôto", 2006)),
        ("Hyena Road", ("Hyena Road", None)),
        ("Assembly (Ji jie hao) (2007) ", ("Assembly (Ji jie hao)", 2007)),
        (
            "Land Before Time III: The Time of the Great Giving (1995) (V)",
            ("Land Before Time III: The Time of the Great Giving", 1995),
        ),
        ("2001: A Space Odyssey (1968)", ("2001: A Space Odyssey", 1968)),
        ("1776 (1972)", ("1776", 1972)),
        ("Texas, Adios (1966)", ("Texas, Adios", 1966)),
    ],
)
def test_parse_title(raw: str, expected: tuple[str, int | None]) -> None:
    assert parse_title(raw) == expected


def test_year_only_title_is_not_a_year() -> None:
    # "1776" is the whole title, not a trailing "(year)".
    assert split_title_year("1776") == ("1776", None)


def test_restore_article_leaves_other_commas() -> None:
    assert restore_article("Crouching Tiger, Hidden Dragon") == "Crouching Tiger, Hidden Dragon"
