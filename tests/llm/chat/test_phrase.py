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
