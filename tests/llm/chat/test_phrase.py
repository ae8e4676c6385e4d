"""The model's phrasing of a template answer is shown only when it keeps to the facts."""

from __future__ import annotations

from cinerec.data.types import Movie
from cinerec.llm.chat.phrase import check_phrasing, phrase_messages

MEMENTO = Movie(
    1, "Memento", 2000, ("Thriller",), director="Christopher Nolan", cast=("Guy Pearce",)
)
PRESTIGE = Movie(3, "The Prestige", 2006, ("Drama",), director="Christopher Nolan")
DRAFT = "Christopher Nolan directed these catalog movies: Memento (2000) [#1] and The Prestige (2006) [#3]."  # noqa: E501
PEOPLE = {"Christopher Nolan", "Guy Pearce", "Michael Mann"}


def check(reply: str, language: str = "en"):  # type: ignore[no-untyped-def]
    return check_phrasing(
        reply, DRAFT, [MEMENTO, PRESTIGE], required=["Christopher Nolan"], language=language,
        is_person=lambda p: p in PEOPLE,
    )  # fmt: skip


def test_a_faithful_phrasing_passes_and_uncited_titles_get_their_ids() -> None:
    assert check(
        "Nolan's films: Memento (2000) [#1] and The Prestige (2006) [#3], by Christopher Nolan."
    ).ok
    fixed = check("Christopher Nolan made Memento (2000) and The Prestige (2006).")
    assert fixed.ok and "[#1]" in fixed.text and "[#3]" in fixed.text


def test_anything_outside_the_facts_or_a_dropped_fact_is_refused() -> None:
    assert (
        check("Christopher Nolan directed Memento [#1], The Prestige [#3] and Heat [#6].").reason
        == "unknown_citation"
    )
    assert (
        check("Michael Mann directed Memento (2000) [#1] and The Prestige (2006) [#3].").reason
        == "unknown_person"
    )
    assert check("Christopher Nolan directed Memento (2000) [#1].").reason == "dropped_citation"
    assert (
        check("He directed Memento (2000) [#1] and The Prestige (2006) [#3].").reason
        == "dropped_fact"
    )
    assert (
        check(
            "Christopher Nolan directed Memento (2000) [#1] and The Prestige (2006) [#3].", "ko"
        ).reason
        == "wrong_language"
    )


def test_the_prompt_carries_facts_question_and_draft() -> None:
    messages = phrase_messages("what else?", ["[#1] Memento (2000)"], DRAFT, language="ko")
    assert "Korean" in messages[0].content
    assert "[#1] Memento (2000)" in messages[1].content and DRAFT in messages[1].content


def test_a_phrasing_with_a_false_genre_or_role_fails_the_fact_checker() -> None:
    assert (
        check(
            "Christopher Nolan directed Memento (2000) [#1], a horror film, and The Prestige "
            "(2006) [#3]."
        ).reason
        == "false_claim"
    )
    assert check(
        "Christopher Nolan directed the thriller Memento (2000) [#1] and The Prestige (2006) [#3]."
    ).ok


HEAT = Movie(6, "Heat", 1995, ("Crime",), director="Michael Mann")
UP = Movie(7, "Up", 2009, ("Animation",))
OLDER_DRAFT = "Heat (1995) [#6] is older: it came out in 1995, and Up (2009) [#7] in 2009."


def compare(reply: str, language: str = "en"):  # type: ignore[no-untyped-def]
    return check_phrasing(
        reply, OLDER_DRAFT, [HEAT, UP], required=["1995", "2009"], language=language,
        verdict=(6, 7),
    )  # fmt: skip


def test_a_comparison_keeps_its_verdict_the_right_way_round() -> None:
    assert compare("Heat (1995) is older than Up (2009), which came out in 2009.").ok
    assert compare("Up (2009) [#7]보다 Heat (1995) [#6]이(가) 더 오래됐습니다.", "ko").ok
    # The 0.5B model's inversions seen in the chat benchmark are refused (the draft is shown).
    flipped = compare("Up (2009) [#7] is older than Heat (1995) [#6].")
    assert not flipped.ok and flipped.reason == "verdict"
    ko = compare("Up (2009) [#7]은(는) Heat (1995) [#6]보다 오래됐습니다.", "ko")
    assert not ko.ok and ko.reason == "verdict"
    # Both years but no verdict: it no longer answers "which is older?".
    silent = compare("Heat (1995) [#6] came out in 1995. Up (2009) [#7] came out in 2009.")
    assert not silent.ok and silent.reason == "verdict"
