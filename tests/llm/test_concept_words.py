"""Concrete nouns a one-liner may not use when its movie's record lacks them (and the examples'
nouns, which leaked into other movies' lines)."""

from __future__ import annotations

import re

import pytest

from cinerec.data.types import Movie
from cinerec.llm.concept_words import CONCEPTS, unsupported_words
from cinerec.llm.posts.checks import movie_facts_text
from cinerec.llm.posts.compose import review_schema
from cinerec.llm.posts.prompts import _EXAMPLE_MOVIES, _EXAMPLE_REVIEWS

FRIDAY = Movie(
    69, "Friday", 1995, ("Comedy",), director="F. Gary Gray", cast=("Ice Cube", "Chris Tucker"),
    overview="Craig and Smokey are two guys in Los Angeles hanging out on their porch on a "
    "Friday afternoon, smoking and drinking, looking for something to do.",
    keywords=("rap music", "parents kids relationship", "rapper", "job"),
)  # fmt: skip
JAWS = Movie(
    521, "Jaws", 1975, ("Action", "Horror", "Thriller"),
    overview="An insatiable great white shark terrorizes the townspeople of Amity Island.",
    keywords=("shark", "police chief"),
)  # fmt: skip


def pattern(movie: Movie, language: str, theme: str = "") -> re.Pattern[str]:
    return re.compile(review_schema(language, movie, theme)["properties"]["review"]["pattern"])


@pytest.mark.parametrize(
    "line",
    [
        "사람들이 빛을 쓰는 친절들, 그리고 그들이 빛을 쓰는 상어.",  # the v4 sample's false line
        "파리 웨이트리스가 범죄를 발견한 세 남자.",
        "작은 배를 탄 소녀의 하루.",
        "A shark hunts two friends on a Friday afternoon.",
        "Two guys meet a shy Parisian waitress.",
    ],
)
def test_friday_cannot_get_a_shark_or_the_examples_waitress(line: str) -> None:
    language = "ko" if re.search("[가-힣]", line) else "en"
    assert not pattern(FRIDAY, language).fullmatch(line)


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("ko", "Ice Cube와 Chris Tucker가 함께하는 유쾌한 코미디입니다."),
        ("ko", "배우 Craig와 Smokey의 매력이 돋보이는 코미디."),  # 배우 (actor) starts like 배
        ("en", "Two guys kill a Friday afternoon on their porch."),
    ],
)
def test_friday_keeps_its_own_words(language: str, line: str) -> None:
    assert pattern(FRIDAY, language).fullmatch(line)


def test_a_movie_with_a_shark_may_say_so() -> None:
    assert "shark*" not in unsupported_words(movie_facts_text(JAWS))
    assert pattern(JAWS, "en").fullmatch("A great white shark terrorizes an island.")


def test_the_theme_supports_its_own_words() -> None:
    assert "여름*" not in unsupported_words(movie_facts_text(FRIDAY), allowed=["여름 밤"])
    assert not pattern(FRIDAY, "en").fullmatch("Two friends on a summer day.")
    assert pattern(FRIDAY, "en", theme="summer nights").fullmatch("Two friends on a summer day.")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_each_example_answer_fits_its_own_movie_but_no_other(language: str) -> None:
    for movie, line in zip(_EXAMPLE_MOVIES, _EXAMPLE_REVIEWS[language], strict=False):
        assert pattern(movie, language).fullmatch(line), (movie.title, line)
        assert not pattern(FRIDAY, language).fullmatch(line), line


def test_every_concept_names_itself_in_both_languages() -> None:
    for concept in CONCEPTS:
        assert concept.stems
        assert any(re.search("[가-힣]", w) for w in concept.words), concept
