"""The Korean one-liner's allow list: the record's names, its genres, plot-free words."""

from __future__ import annotations

import re

import pytest

from cinerec.data.types import Movie
from cinerec.llm.posts.compose import review_schema
from cinerec.llm.posts.korean_lines import (
    PARTICLES,
    korean_review_pattern,
    record_names,
    trie_regex,
)

FRIDAY = Movie(
    69, "Friday", 1995, ("Comedy",), director="F. Gary Gray",
    cast=("Ice Cube", "Chris Tucker", "Nia Long", "Tom Lister Jr."),
    overview="Craig and Smokey are two guys in Los Angeles hanging out on their porch on a "
    "Friday afternoon, smoking and drinking, looking for something to do.",
)  # fmt: skip
VIRGIN = Movie(
    35836, "The 40-Year-Old Virgin", 2005, ("Comedy", "Romance"), director="Judd Apatow",
    cast=("Steve Carell", "Catherine Keener"),
    overview="Andy Stitzer has a pleasant life with a nice apartment and a job stamping "
    "invoices at an electronics store. But at age 40, there's one little thing Andy's never "
    "done, and it's really starting to bother him.",
)  # fmt: skip


def test_trie_regex_matches_exactly_its_words() -> None:
    words = ["영화", "영화들", "영웅", "Craig", "Cube"]
    regex = re.compile(trie_regex(words))
    assert all(regex.fullmatch(w) for w in words)
    assert not any(regex.fullmatch(w) for w in ["영", "영화의", "Crai", "Cub", "상어"])
    assert re.compile(trie_regex(PARTICLES)).fullmatch("입니다")
    with pytest.raises(ValueError):
        trie_regex(["two words"])


def test_record_names_are_the_records_latin_words() -> None:
    names = record_names(FRIDAY)
    assert {"Friday", "Gray", "Cube", "Tucker", "Craig", "Smokey", "Los", "Angeles"} <= set(names)
    assert "Nia" not in names  # the third cast member is not shown to the model
    assert "guys" not in names  # lowercase plot words are not names


@pytest.mark.parametrize(
    ("movie", "line"),
    [
        (FRIDAY, "Craig, Smokey는 라이브러리에서 떠난다."),  # a library (words v5, before this)
        (FRIDAY, "사람들이 빛을 쓰는 친절들, 그리고 그들이 빛을 쓰는 상어."),  # v4's shark
        (FRIDAY, "Ice Cube와 Chris Tucker의 유쾌한 로맨스."),  # a genre Friday lacks
        (VIRGIN, "Andy Stitzer의 산업과 작업을 세 남자로 하고, Andy는 소녀가 되어 있습니다."),
        (VIRGIN, "Steve Carell과 shark의 코미디."),  # a Latin word the record lacks
        # a director who is not (words v5: "William Shatner 감독" for Leonard Nimoy's film)
        (FRIDAY, "Ice Cube 감독의 유쾌한 코미디입니다."),
        (FRIDAY, "Friday 감독의 유쾌한 코미디입니다."),
    ],
)
def test_a_korean_line_cannot_say_what_the_record_lacks(movie: Movie, line: str) -> None:
    assert not re.fullmatch(korean_review_pattern(movie), line)


@pytest.mark.parametrize(
    ("movie", "line"),
    [
        (FRIDAY, "Ice Cube와 Chris Tucker가 함께하는 유쾌한 코미디입니다."),
        (FRIDAY, "F. Gary Gray 감독의 코미디, Los Angeles의 유쾌한 작품입니다."),
        (VIRGIN, "Steve Carell의 연기가 돋보이는 로맨스 코미디, Andy의 이야기입니다."),
    ],
)
def test_a_korean_line_of_the_records_facts_is_allowed(movie: Movie, line: str) -> None:
    assert re.fullmatch(korean_review_pattern(movie), line)


def test_the_korean_review_schema_carries_the_allow_list() -> None:
    pattern = review_schema("ko", FRIDAY)["properties"]["review"]["pattern"]
    assert pattern == korean_review_pattern(FRIDAY)
    assert review_schema("en", FRIDAY)["properties"]["review"]["pattern"] != pattern


def test_a_word_three_times_in_a_row_is_a_loop() -> None:
    from cinerec.llm.posts.checks import repeats_itself

    # shown in the f40fb47 replay (cut at 80 characters): now a loop the writer rejects
    assert repeats_itself(
        "Martin Scorsese 감독의 드라마 캐릭터, Henry Hill, 아름다운 아름다운 아름다운 아름다"
    )
    assert not repeats_itself("Ice Cube와 Chris Tucker가 함께하는 유쾌한 코미디, 유쾌한 하루.")
