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


WONKA = Movie(1073, "Willy Wonka & the Chocolate Factory", 1971, ("Children",))
CRUEL = Movie(2459, "Cruel Intentions", 1999, ("Drama",))
MORE_DRAFT = (
    "Willy Wonka & the Chocolate Factory (1971) [#1073] has more ratings in the catalog: 119, "
    "against 40 for Cruel Intentions (1999) [#2459]."
)


def more(reply: str, language: str = "en"):  # type: ignore[no-untyped-def]
    return check_phrasing(
        reply, MORE_DRAFT, [WONKA, CRUEL], required=["119", "40"], language=language,
        verdict=(1073, 2459), values={1073: "119", 2459: "40"},
    )  # fmt: skip


def test_a_comparisons_counts_stay_with_their_movies() -> None:
    # Hand-checked sample (words v4): "Cruel Intentions (1999) has more ratings in the catalog:
    # 119 against 40 for Willy Wonka & the Chocolate Factory (1971)" (the counts inverted).
    seen = more(
        "Cruel Intentions (1999) has more ratings in the catalog: 119 against 40 for Willy Wonka "
        "& the Chocolate Factory (1971)."
    )
    assert not seen.ok
    # The same inversion under the right subject (what a forced title lead allows) is refused.
    swapped = more(
        "Willy Wonka & the Chocolate Factory (1971) has more ratings in the catalog: 40, against "
        "119 for Cruel Intentions (1999)."
    )
    assert not swapped.ok and swapped.reason == "swapped_values"
    assert more(MORE_DRAFT).ok
    assert more(
        "Willy Wonka & the Chocolate Factory (1971) has more ratings in the catalog: 119, while "
        "Cruel Intentions (1999) has 40."
    ).ok
    ko = more(
        "Willy Wonka & the Chocolate Factory (1971)의 평가 수가 더 많습니다: 40개, "
        "Cruel Intentions (1999)은(는) 119개입니다.",
        "ko",
    )
    assert not ko.ok and ko.reason == "swapped_values"


LARRY = Movie(1120, "The People vs. Larry Flynt", 1996, ("Drama",))
CLERKS = Movie(223, "Clerks", 1994, ("Comedy",))


def test_a_comparison_of_a_movie_with_itself_is_refused() -> None:
    draft = (
        "Clerks (1994) [#223]이(가) 더 오래됐습니다: 1994년 개봉이고, The People vs. Larry Flynt "
        "(1996) [#1120]은(는) 1996년 개봉입니다."
    )

    def older(reply: str):  # type: ignore[no-untyped-def]
        return check_phrasing(
            reply, draft, [CLERKS, LARRY], required=["1994", "1996"], language="ko",
            verdict=(223, 1120), values={223: "1994", 1120: "1996"},
        )  # fmt: skip

    assert older(draft).ok
    # Hand-checked sample (words v4): the Korean answer compared Larry Flynt with itself.
    seen = older(
        "The People vs. Larry Flynt (1996) [#1120]이(가) 더 오래됐습니다: 1996년 개봉이고, "
        "The People vs. Larry Flynt (1996) [#1120]은(는) 1996년 개봉입니다."
    )
    assert not seen.ok
    # Under the right subject, and with the other movie cited elsewhere, still refused.
    itself = older(
        "Clerks (1994) [#223]이(가) 더 오래됐습니다: 1994년 개봉이고, Clerks (1994) [#223]은(는) "
        "1994년 개봉입니다. The People vs. Larry Flynt (1996) [#1120]도 있습니다."
    )
    assert not itself.ok and itself.reason == "self_comparison"
    # "vs." inside a title ends no sentence: the values after it are still read.
    swapped = older(
        "Clerks (1994) [#223]이(가) 더 오래됐습니다: 1996년 개봉이고, The People vs. Larry Flynt "
        "(1996) [#1120]은(는) 1994년 개봉입니다."
    )
    assert not swapped.ok and swapped.reason == "swapped_values"


def test_a_list_that_leaves_out_the_asked_movie_keeps_saying_so() -> None:
    # Hand-checked sample (words v4): "Ice Cube acted in these catalog movies: ... These are the
    # 8 most rated of 15." read as leaving out Friday (1995), 20 ratings, for 22 Jump Street, 19:
    # the phrasing had dropped the draft's "Besides Friday (1995),".
    draft = (
        "Besides Memento (2000), Christopher Nolan directed these catalog movies: The Prestige "
        "(2006) [#3]."
    )
    args = {
        "required": ["Christopher Nolan"],
        "language": "en",
        "is_person": PEOPLE.__contains__,
        "context": [MEMENTO],
    }
    assert check_phrasing(draft, draft, [PRESTIGE], **args).ok  # type: ignore[arg-type]
    dropped = check_phrasing(
        "Christopher Nolan directed these catalog movies: The Prestige (2006) [#3].",
        draft, [PRESTIGE], **args,  # type: ignore[arg-type]
    )  # fmt: skip
    assert not dropped.ok and dropped.reason == "dropped_context"
    # Kept without its year (seen: "bowling for Columbine 외에 ...") it still says so.
    no_year = draft.replace("Memento (2000)", "Memento")
    assert check_phrasing(no_year, draft, [PRESTIGE], **args).ok  # type: ignore[arg-type]
    # Inside another listed title it is not named ("Next Friday (2000)" kept no "Friday").
    friday = Movie(69, "Friday", 1995, ("Comedy",), cast=("Ice Cube",))
    nxt = Movie(3177, "Next Friday", 2000, ("Comedy",), cast=("Ice Cube",))
    ice = {**args, "context": [friday], "is_person": {"Ice Cube"}.__contains__}
    ice["required"] = ["Ice Cube"]
    draft = (
        "Besides Friday (1995), Ice Cube acted in these catalog movies: Next Friday (2000) [#3177]."
    )
    kept = check_phrasing(draft, draft, [nxt], **ice)  # type: ignore[arg-type]
    assert kept.ok and kept.text == draft, kept  # shown as the draft: Friday is not cited
    seen = "Ice Cube acted in these catalog movies: Next Friday (2000) [#3177]."
    assert check_phrasing(seen, draft, [nxt], **ice).reason == "dropped_context"  # type: ignore[arg-type]


def test_a_value_after_the_movie_compared_against_is_the_subjects() -> None:
    # 0.5B chat run (Korean, older): "Tommy Boy (1995) [#333]이(가) Ocean's Twelve (2004)
    # [#8984]보다 더 오래됐습니다: 1995년 개봉이고, ..." was refused as swapped_values: 1995 was
    # read as Ocean's Twelve's, the movie named last before it.
    tommy = Movie(333, "Tommy Boy", 1995, ("Comedy",))
    ocean = Movie(8984, "Ocean's Twelve", 2004, ("Crime",))
    draft = (
        "Tommy Boy (1995) [#333]이(가) 더 오래됐습니다: 1995년 개봉이고, Ocean's Twelve (2004) "
        "[#8984]은(는) 2004년 개봉입니다."
    )
    reply = (
        "Tommy Boy (1995) [#333]이(가) Ocean's Twelve (2004) [#8984]보다 더 오래됐습니다: 1995년 "
        "개봉이고, Ocean's Twelve (2004) [#8984]은(는) 2004년 개봉입니다."
    )
    args = {"required": ["1995", "2004"], "verdict": (333, 8984)}
    values = {333: "1995", 8984: "2004"}
    assert check_phrasing(reply, draft, [tommy, ocean], language="ko", values=values, **args).ok  # type: ignore[arg-type]
    english = (
        "Tommy Boy (1995) [#333] is older than Ocean's Twelve (2004) [#8984]: it came out in 1995, "
        "and Ocean's Twelve (2004) [#8984] in 2004."
    )
    assert check_phrasing(english, draft, [tommy, ocean], language="en", values=values, **args).ok  # type: ignore[arg-type]


def test_a_count_for_a_title_with_numbers_is_that_movies() -> None:
    # 0.5B chat run: the draft's own words were refused as swapped_values, "37 for Fahrenheit
    # 9/11 (2004)" read as Gone with the Wind's (the title's digits hid the "for").
    gone = Movie(920, "Gone with the Wind", 1939, ("Drama",))
    f911 = Movie(8622, "Fahrenheit 9/11", 2004, ("Documentary",))
    draft = (
        "Gone with the Wind (1939) [#920] has more ratings in the catalog: 45, against 37 for "
        "Fahrenheit 9/11 (2004) [#8622]."
    )
    check = check_phrasing(
        draft, draft, [gone, f911], required=["45", "37"], language="en",
        verdict=(920, 8622), values={920: "45", 8622: "37"},
    )  # fmt: skip
    assert check.ok, check


def test_a_title_cited_with_another_movies_id_is_refused() -> None:
    # Benchmark chat_qa_0.5b_300q_v6, q56: "Snatch (2000) [#4027] and Snatch (2000) [#4011]"
    # was shown; #4027 is O Brother, Where Art Thou? (2000): Snatch named twice, one dropped.
    brother = Movie(4027, "O Brother, Where Art Thou?", 2000, ("Comedy",))
    snatch = Movie(4011, "Snatch", 2000, ("Comedy",))
    shrek = Movie(4306, "Shrek", 2001, ("Comedy",))
    shrek2 = Movie(8360, "Shrek 2", 2004, ("Comedy",))
    facts = [shrek, brother, snatch, shrek2]
    draft = (
        "The most rated Comedy movies from the 2000s in the catalog: Shrek (2001) [#4306], "
        "O Brother, Where Art Thou? (2000) [#4027], Snatch (2000) [#4011] and Shrek 2 (2004) "
        "[#8360]."
    )

    def reason(reply: str) -> str:
        return check_phrasing(reply, draft, facts, required=["Comedy"], language="en").reason

    miscited = (
        "The most rated Comedy movies from the 2000s in the catalog are:\nShrek (2001) [#4306]\n"
        "Shrek 2 (2004) [#8360]\nSnatch (2000) [#4027] and Snatch (2000) [#4011]"
    )
    assert reason(miscited) == "miscited_title"
    shrek_as_shrek2 = miscited.replace("Shrek 2 (2004) [#8360]", "Shrek (2004) [#8360]")
    brother = "O Brother, Where Art Thou? (2000) [#4027]"
    assert reason(shrek_as_shrek2.replace("Snatch (2000) [#4027]", brother)) == "miscited_title"
    # Each title with its own id passes, a title inside a longer one ("Shrek" in "Shrek 2")
    # included, and so does a citation after words that name no given title.
    right = miscited.replace("Snatch (2000) [#4027]", "O Brother, Where Art Thou? (2000) [#4027]")
    assert check_phrasing(right, draft, facts, required=["Comedy"], language="en").ok
    assert check_phrasing(
        "The most rated Comedy movies of the 2000s: Shrek (2001) [#4306], the Coens' comedy "
        "[#4027], Snatch (2000) [#4011] and Shrek 2 (2004) [#8360].",
        draft, facts, required=["Comedy"], language="en",
    ).ok  # fmt: skip
