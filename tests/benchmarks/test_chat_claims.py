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


RATED = ClaimCatalog(
    [
        CatalogMovie(1073, "Willy Wonka & the Chocolate Factory", 1971, (), (), 119),
        CatalogMovie(2459, "Cruel Intentions", 1999, (), (), 40),
        CatalogMovie(4299, "A Knight's Tale", 2001, (), (), 41),
        CatalogMovie(6711, "Lost in Translation", 2003, (), (), 74),
        CatalogMovie(1120, "People vs. Larry Flynt, The", 1996, (), (), 30),
        CatalogMovie(223, "Clerks", 1994, (), (), 104),
        CatalogMovie(2021, "Dune", 1984, (), (), 40),
        CatalogMovie(55247, "Once", 2006, (), (), 10),
        CatalogMovie(69, "Friday", 1995, (), ("Ice Cube",), 20),
        CatalogMovie(112138, "22 Jump Street", 2014, (), ("Ice Cube",), 19),
        CatalogMovie(2890, "Three Kings", 1999, (), ("Ice Cube",), 60),
    ]
)


def test_the_hand_checked_samples_false_chat_answers_are_flagged() -> None:
    # The false chat answers of benchmarks/data/words_sample100_0.5b_v4.jsonl.
    false = [
        "Cruel Intentions (1999) has more ratings in the catalog: 119 against 40 for Willy Wonka "
        "& the Chocolate Factory (1971).",
        "A Knight's Tale (2001) [#4299]의 평가 수가 더 많은 영화는 74개입니다.",
        "The People vs. Larry Flynt (1996) [#1120]이(가) 더 오래됐습니다: 1996년 개봉이고, The "
        "People vs. Larry Flynt (1996) [#1120]은(는) 1996년 개봉입니다.",
        "I could not find that movie 'dune' in the catalog, so I cannot answer.",
        "카탈로그에서 그 영화 'once'를 찾지 못해 답할 수 없습니다.",
        "Ice Cube acted in these catalog movies: Three Kings (1999) [#2890] and 22 Jump Street "
        "(2014) [#112138]. These are the 2 most rated of 2.",
    ]
    for text in false:
        assert false_claims(RATED, text, asked=""), text


def test_true_comparisons_and_not_found_answers_pass() -> None:
    true = [
        "Willy Wonka & the Chocolate Factory (1971) [#1073] has more ratings in the catalog: 119, "
        "against 40 for Cruel Intentions (1999) [#2459].",
        "카탈로그에서 Lost in Translation (2003) [#6711]의 평가 수가 더 많습니다: 74개, A Knight's "
        "Tale (2001) [#4299]은(는) 41개입니다.",
        "Clerks (1994) [#223]이(가) 더 오래됐습니다: 1994년 개봉이고, The People vs. Larry Flynt "
        "(1996) [#1120]은(는) 1996년 개봉입니다.",
        "The People vs. Larry Flynt (1996) [#1120]보다 Clerks (1994) [#223]이(가) 더 오래됐습니다.",
        "The catalog does not have Dune: Part Two (2024), so I cannot answer. Close titles it "
        "does have: Dune (1984) [#2021].",
        "Besides Friday (1995), Ice Cube acted in these catalog movies: Three Kings (1999) "
        "[#2890] and 22 Jump Street (2014) [#112138]. These are the 2 most rated of 2.",
        "Friday (1995) 외에 카탈로그에서 Ice Cube이(가) 출연한 영화: Three Kings (1999) [#2890], "
        "22 Jump Street (2014) [#112138]. (모두 2편 중 평가가 많은 2편)",
    ]
    for text in true:
        assert false_claims(RATED, text, asked="Dune: Part Two (2024)") == [], text
    # The wrong winner after "더 많은 영화는" (a forced lead does not make it right).
    led = "Lost in Translation (2003) [#6711]의 평가 수가 더 많은 영화는 A Knight's Tale (2001) [#4299]입니다."  # noqa: E501
    assert false_claims(RATED, led, asked="") == [
        "A Knight's Tale (2001) is said to have more ratings, but that is Lost in Translation"
    ]


def test_counts_beside_a_title_the_checker_cannot_read_are_not_misread() -> None:
    cat = ClaimCatalog(
        [
            CatalogMovie(8464, "Super Size Me", 2004, (), (), 50),
            CatalogMovie(7022, "Battle Royale (Batoru rowaiaru)", 2000, (), (), 30),
        ]
    )
    # A bracketed title without its id is not read: "30 for" it belongs to nobody, "(2000)"
    # is no count.
    text = (
        "Super Size Me (2004) has more ratings in the catalog: 50, against 30 for Battle Royale "
        "(Batoru rowaiaru) (2000)"
    )
    assert false_claims(cat, text, asked="Battle Royale (Batoru rowaiaru) (2000)") == []


def test_a_number_inside_a_title_is_no_count() -> None:
    cat = ClaimCatalog(
        [
            CatalogMovie(17, "Sense and Sensibility", 1995, (), (), 67),
            CatalogMovie(115617, "Big Hero 6", 2014, (), (), 41),
        ]
    )
    text = (
        "Sense and Sensibility (1995)의 평가 수가 더 많습니다: 67개, Big Hero 6 (2014) "
        "[#115617]은(는) 41개입니다."
    )
    assert false_claims(cat, text, asked="") == []
    assert false_claims(cat, text.replace("41개", "67개").replace(": 67개", ": 41개"), asked="")


def test_a_title_before_another_movies_citation_of_that_year_is_flagged() -> None:
    # chat_qa_0.5b_300q_v6 q56 (read by hand): "Snatch (2000) [#4027]", #4027 being O Brother.
    cat = ClaimCatalog(
        [
            CatalogMovie(4027, "O Brother, Where Art Thou?", 2000, ("Joel Coen",), ()),
            CatalogMovie(4011, "Snatch", 2000, ("Guy Ritchie",), ()),
            CatalogMovie(8360, "Shrek 2", 2004, (), ()),
            CatalogMovie(858, "Godfather, The", 1972, (), ()),
        ]
    )
    bad = "Comedies of the 2000s:\nSnatch (2000) [#4027] and Snatch (2000) [#4011]"
    assert false_claims(cat, bad, asked="") == ["[#4027] is O Brother, Where Art Thou?, not Snatch"]
    good = (
        "Comedies: O Brother, Where Art Thou? (2000) [#4027], Snatch (2000) [#4011], "
        "Shrek 2 (2004) [#8360] and The Godfather (1972) [#858]."
    )
    assert false_claims(cat, good, asked="") == []
