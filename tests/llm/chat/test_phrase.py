"""The model's phrasing of a template answer is shown only when it keeps to the facts."""

from __future__ import annotations

import re

from cinerec.data.types import Movie
from cinerec.llm.chat.phrase import (
    answer_of,
    check_phrasing,
    keeps_fact,
    lead_schema,
    phrase_messages,
)

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


def test_a_lead_schema_forces_the_winner_as_the_subject_of_the_answer() -> None:
    schema = lead_schema("Heat (1995)")
    assert schema is not None
    pattern = schema["properties"]["answer"]["pattern"]
    # llama.cpp grammar patterns: no escapes, no non-capturing groups.
    assert "\\." not in pattern and "(?:" not in pattern
    assert re.match(pattern, "Heat (1995) [#6] is older than Up (2009) [#7].")
    assert not re.match(pattern, "Up (2009) [#7] is newer than Heat (1995) [#6].")
    assert not re.match(pattern, 'Heat (1995) [#6] is "older".')  # one JSON-safe paragraph
    assert re.match(
        lead_schema("Léon: The Professional (1994)")["properties"]["answer"]["pattern"],  # type: ignore[index]
        "Léon: The Professional (1994) [#293] is older.",
    )
    assert lead_schema("") is None and lead_schema("Say [Anything] (1989)") is None
    assert answer_of('{"answer": "Heat (1995) [#6] is older."}') == "Heat (1995) [#6] is older."
    assert answer_of('{"answer": "Heat (1995) [#6] is') is None and answer_of("[1]") is None


MULTIPLICITY = Movie(719, "Multiplicity", 1996, ("Comedy",), director="Harold Ramis")


def test_a_korean_required_word_may_carry_a_particle_or_the_copula() -> None:
    # 0.5B chat run: the Korean draft itself ("...코미디입니다.") was refused as dropped_fact.
    draft = "Multiplicity (1996) [#719]의 장르는 코미디입니다."
    assert check_phrasing(draft, draft, [MULTIPLICITY], required=["코미디"], language="ko").ok
    assert keeps_fact("코미디", " 장르는 코미디와 드라마 ")
    # Another word that only starts with it is not it, and a dropped genre is still refused.
    assert not keeps_fact("코미디", " 로맨틱코미디입니다 ")
    assert not keeps_fact("드라마", " 드라마틱한 영화 ")
    dropped = check_phrasing(
        "Multiplicity (1996) [#719]은(는) 재미있는 영화입니다.", draft, [MULTIPLICITY],
        required=["코미디"], language="ko",
    )  # fmt: skip
    assert dropped.reason == "dropped_fact"
    # A false genre with a particle is still caught by the fact checker.
    horror = check_phrasing(
        "Multiplicity (1996) [#719]은(는) 코미디이며 공포 영화입니다.", draft, [MULTIPLICITY],
        required=["코미디"], language="ko",
    )  # fmt: skip
    assert horror.reason == "false_claim"


def test_a_movie_the_draft_names_from_the_conversation_may_be_named() -> None:
    # 0.5B chat run: 19 Korean follow-ups copied the draft word for word and were refused,
    # because "Memento (2000) 외에" names the movie of the first turn, which is no fact.
    draft = (
        "Memento (2000) 외에 카탈로그에서 Christopher Nolan이(가) 감독한 영화: "
        "The Prestige (2006) [#3]."
    )
    args = {"required": ["Christopher Nolan"], "language": "ko", "is_person": PEOPLE.__contains__}
    assert check_phrasing(draft, draft, [PRESTIGE], context=[MEMENTO], **args).ok  # type: ignore[arg-type]
    assert not check_phrasing(draft, draft, [PRESTIGE], **args).ok  # type: ignore[arg-type]
    # What is said of it is still checked.
    false = draft.replace("Memento (2000) 외에", "공포 영화 Memento (2000) 외에")
    assert check_phrasing(false, draft, [PRESTIGE], context=[MEMENTO], **args).reason == (  # type: ignore[arg-type]
        "false_claim"
    )
