"""The chat benchmark's own claim checker flags the issue's false answers and passes true ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.checks.chat_claims import CatalogMovie, ClaimCatalog, false_claims, says_unknown

CAT = ClaimCatalog(
    [
        CatalogMovie(4226, "Memento", 2000, ("Christopher Nolan",), ("Guy Pearce",)),
        CatalogMovie(79132, "Inception", 2010, ("Christopher Nolan",), ("Leonardo DiCaprio",)),
        CatalogMovie(106002, "Homefront", 2013, ("Gary Fleder",), ("Jason Statham",)),
        CatalogMovie(6, "Heat", 1995, (), ()),
        CatalogMovie(858, "Godfather, The", 1972, ("Francis Ford Coppola",), ("Al Pacino",)),
    ]
)


def test_the_issues_false_filmography_is_flagged() -> None:
    asked = "Who directed Memento? Memento (2000) [#4226] was directed by Christopher Nolan. and what else did he direct?"  # noqa: E501
    bad = "Christopher Nolan directed Homefront (2013) [#106002]."
    assert false_claims(CAT, bad, asked=asked) == ["Christopher Nolan is not in Homefront"]
    good = "Besides Memento (2000), Christopher Nolan directed Inception (2010) [#79132]."
    assert false_claims(CAT, good, asked=asked) == []


def test_guesses_wrong_ids_and_wrong_years_are_flagged() -> None:
    assert false_claims(CAT, "Heat (1995) [#6] was directed by Francis Ford Coppola.", asked="")
    assert false_claims(CAT, "The Godfather (1972) [#858] stars Al Pacino.", asked="") == []
    assert false_claims(CAT, "Memento (2001) [#4226] is a thriller.", asked="")
    assert false_claims(CAT, "See [#99999].", asked="") == ["[#99999] is not a catalog movie"]
    assert says_unknown("카탈로그에 Heat (1995) [#6]의 감독 정보가 없어 알 수 없습니다.")
    assert not says_unknown("Heat (1995) [#6] was directed by Michael Mann.")


def test_named_movies_come_in_the_order_the_text_names_them() -> None:
    # A raw comparison whose winner has no citation: before, cited movies came first, so the
    # correct "Heat (1995) is older" read as naming Inception first.
    text = "Heat (1995) is older: it came out in 1995, and Inception (2010) [#79132] in 2010."
    assert CAT.named_movies(text) == ([6, 79132], [])
    assert CAT.named_movies("Inception (2010) [#79132] is newer than Heat (1995) [#6].")[0] == [
        79132,
        6,
    ]


def test_a_year_for_the_asked_title_without_its_year_is_checked_against_it() -> None:
    asked = "In what year was Memento released?"
    assert false_claims(CAT, "Memento was released in 2000.", asked=asked) == []
    assert (
        false_claims(CAT, "Memento은(는) 2000년에 개봉했습니다.", asked="Memento은(는) 몇 년에?")
        == []
    )
    assert false_claims(CAT, "Memento was released in 2001.", asked=asked) == [
        "2001 is no named movie's year"
    ]


def test_the_checker_imports_nothing_from_the_products_grounding() -> None:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "checks" / "chat_claims.py"
    code = f"import runpy, sys; runpy.run_path({str(path)!r}); print(sorted(m for m in sys.modules if m.startswith('cinerec')))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
