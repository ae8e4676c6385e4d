"""Caption and one-liner checks: grounding, other candidates' titles, language, length."""

from __future__ import annotations

from cinerec.data.types import Movie
from cinerec.llm.posts.checks import (
    MAX_REVIEW_CHARS,
    bounded,
    caption_line_problems,
    check_caption,
    check_review,
    language_ok,
    movie_facts_text,
    repair_caption,
    synopsis_review,
    tidy_cut,
    unknown_names,
)

HEAT = Movie(6, "Heat", 1995, ("Action", "Crime"), overview="A detective hunts a thief. More.",
             director="Michael Mann", cast=("Al Pacino", "Robert De Niro"))  # fmt: skip
RONIN = Movie(1, "Ronin", 1998, ("Action",), overview="Mercenaries chase a case.")
UP = Movie(2, "Up", 2009, ("Animation",), overview="A house flies away.")
OTHERS = [HEAT, RONIN, UP]


def test_a_grounded_review_passes_cleaned() -> None:
    text, problem = check_review(
        "  **Al Pacino** chases   Robert De Niro through L.A.  ",
        HEAT,
        OTHERS,
        theme="heists",
        language="en",
    )
    assert problem is None and text == "Al Pacino chases Robert De Niro through L.A."


def test_reviews_naming_unknown_or_other_titles_are_rejected() -> None:
    text, problem = check_review(
        'Like "Fake Movie 3000" but louder.', HEAT, OTHERS, theme="x", language="en"
    )
    assert text == "" and "not a candidate" in problem
    _, problem = check_review(
        "Better than Ronin, trust me.", HEAT, OTHERS, theme="x", language="en"
    )
    assert problem and "another candidate" in problem
    # a one-word short title is too common a word to count ("up" here)
    assert check_review("It builds up slowly.", HEAT, OTHERS, theme="x", language="en")[1] is None
    assert check_review("Heat", HEAT, OTHERS, theme="x", language="en")[1] is not None


def test_language_and_length() -> None:
    assert language_ok("비 오는 날의 Heat, 긴장감 최고.", "ko")
    assert not language_ok("Tense and cold.", "ko")
    assert not language_ok("紧张的电影", "ko") and not language_ok("紧张的电影", "en")
    assert language_ok("Heat (히트) is tense.", "en")
    long = " ".join(f"word{k}" for k in range(60))
    text, problem = check_review(long, HEAT, OTHERS, theme="x", language="en")
    assert problem is None and len(text) <= MAX_REVIEW_CHARS["en"] and text.endswith("…")
    assert bounded("a  b\n c", 10) == "a b c"


def test_caption_lines_are_checked_one_by_one() -> None:
    caption, problems = check_caption(
        ["Rain again.", "Heat and more.", "Press play."], [HEAT], theme="rain", language="en"
    )
    assert caption == "Rain again.\nHeat and more.\nPress play." and problems == []
    _, problems = check_caption(["Rain.", "  ", "Watch The Dark Knight Rises now."], [HEAT],
                                theme="rain", language="en")  # fmt: skip
    assert any("line 2 was empty" in p for p in problems)
    assert any("line 3 names" in p for p in problems)
    _, problems = check_caption(["one", "two"], [HEAT], theme="rain", language="en")
    assert any("2 lines" in p for p in problems)
    _, problems = check_caption(["Rain.", "Heat.", "Go."], [HEAT], theme="비", language="ko")
    assert any("not in Korean" in p for p in problems)


def test_synopsis_review_is_factual_and_in_the_language() -> None:
    assert synopsis_review(HEAT, "en") == "A detective hunts a thief."
    korean = synopsis_review(HEAT, "ko")
    assert korean.startswith("1995년 액션, 범죄 영화") and "Michael Mann 감독" in korean
    assert language_ok(korean, "ko")
    bare = Movie(9, "Bare", None, ())
    assert synopsis_review(bare, "en") == "A feature film."


def test_names_and_example_words_must_come_from_the_facts() -> None:
    facts = movie_facts_text(HEAT)
    assert unknown_names("A duel where Pacino meets De Niro.", facts) == []
    assert unknown_names("A duel of Pacino's patience.", facts) == []
    assert unknown_names("A heist where Chuck flies to Paris.", facts) == ["Chuck", "Paris"]
    assert unknown_names("Paris at night.", facts) == []  # an opener is capitalized anyway
    assert unknown_names("그리고 상어가 나타난다.", facts, markers=["상어"]) == ["상어"]
    _, problem = check_review(
        "A cop chases Michael Corleone.", HEAT, OTHERS, theme="x", language="en"
    )
    assert problem and "Corleone" in problem


def test_looping_lines_are_rejected() -> None:
    loop = "스릴러로 인한 액션과 스릴러로 인한 스릴러로 인한 스릴러로 인한 스릴러"
    assert check_review(loop, HEAT, OTHERS, theme="x", language="ko")[1] == (
        "the review of 6 repeats itself"
    )
    _, bad = caption_line_problems(
        ["fun fun fun fun fun fun", "Rain outside.", "Press play tonight."],
        [HEAT],
        theme="x",
        language="en",
    )
    assert bad == {0: "caption line 1 repeats itself"}


def test_cut_lines_end_cleanly() -> None:
    cut = "A long and winding tale of two men, one city and a heist that goes wrong at the"
    tidy = tidy_cut(cut, len(cut))
    assert tidy == "A long and winding tale of two men, one city and a heist that goes wrong…"
    assert tidy_cut("Short and done.", 20) == "Short and done."
    cut_second = "A first whole sentence here. Then a cut-off seco"
    assert tidy_cut(cut_second, len(cut_second)) == "A first whole sentence here."


def test_bad_caption_lines_are_named_and_can_be_replaced() -> None:
    lines, bad = caption_line_problems(
        ["Rain again.", "Rain again!", "Watch Fake Movie 3000 now."],
        [HEAT],
        theme="rainy day",
        language="en",
    )
    assert sorted(bad) == [1, 2] and "say the same thing" in bad[1]
    fixed = repair_caption(lines, bad, theme="rainy day", language="en")
    assert fixed[0] == "Rain again." and fixed[1].startswith("Well loved")
    assert fixed[2].endswith("?") and len(set(fixed)) == 3
    korean = repair_caption(["a", "b", "c"], {0: "x"}, theme="비 오는 날", language="ko")
    assert korean[0] == "비 오는 날, 이런 영화 어때요?" and korean[1:] == ["b", "c"]


def test_a_review_with_a_false_genre_is_refused_by_the_fact_checker() -> None:
    _, problem = check_review(
        "Heat is a horror film about a detective.", HEAT, OTHERS, theme="x", language="en"
    )
    assert problem is not None and "Horror" not in HEAT.genres and "genre" in problem
    _, problem = check_review("범죄 영화의 긴장감.", HEAT, OTHERS, theme="x", language="ko")
    assert problem is None
    _, bad = caption_line_problems(
        ["Heat is a musical.", "Warm picks.", "Press play."], [HEAT], theme="x", language="en"
    )
    assert list(bad) == [0]


def test_the_synopsis_line_never_calls_imax_a_genre() -> None:
    movie = Movie(9, "Interstellar", 2014, ("Sci-Fi", "IMAX"), director="Christopher Nolan")
    assert "IMAX" not in synopsis_review(movie, "ko")
    assert "imax" not in synopsis_review(movie, "en").lower()
