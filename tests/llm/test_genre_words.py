"""Genre words a card may not use, and the reasons' and one-liners' grammars that ban them."""

from __future__ import annotations

import json
import re

import pytest

from cinerec.data.types import Movie
from cinerec.llm.evidence import build_evidence
from cinerec.llm.genre_words import GENRE_WORDS, banned_genre_words
from cinerec.llm.posts.compose import review_schema
from cinerec.llm.reasons import _schema, card_schema

SNATCH = Movie(4011, "Snatch", 2000, ("Comedy", "Crime", "Thriller"), keywords=("heist", "boxing"))
INCREDIBLES = Movie(
    8961, "Incredibles, The", 2004, ("Action", "Adventure", "Animation", "Children", "Comedy")
)
CHILDHOOD = Movie(1, "Come and See", 1985, ("Drama",), keywords=("world war ii", "san francisco"))
HISTORY = [Movie(3174, "Mystery Men", 1999, ("Action", "Comedy", "Fantasy"))]


def reason_pattern(movie: Movie, language: str, history: list[Movie] | None = None) -> str:
    """The card grammar's genre ban. In English the card's grammar also allows only the words
    of its record and evidence (tests/llm/test_reasons.py), and these sentences use others, so
    English gets the ban alone; Korean gets the card's whole grammar."""
    history = history or []
    if language == "en":
        banned = banned_genre_words(movie, mentioned=[m.title for m in history])
        return _schema(language, banned)["properties"]["reason"]["pattern"]
    schema = card_schema(language, build_evidence(movie, history), history)
    return schema["properties"]["reason"]["pattern"]


def review_pattern(movie: Movie, language: str) -> str:
    return review_schema(language, movie)["properties"]["review"]["pattern"]


PATTERNS = [reason_pattern, review_pattern]

# (card, language, a sentence calling it a genre it lacks, one with its own genres)
CASES = [
    (SNATCH, "en", "Snatch is a mystery about a heist.", "Snatch is a comedy and crime thriller."),
    (SNATCH, "en", "A Horror twist on a heist.", "A heist Thriller with comic boxing."),
    (SNATCH, "en", "A sci-fi heist about boxing.", "A comedic heist about boxing."),
    (SNATCH, "en", "A romantic heist about boxing.", "A crime comedy about boxing."),
    (
        INCREDIBLES,
        "en",
        "It combines action, drama, and mystery.",
        "It combines action and comedy.",
    ),
    (INCREDIBLES, "en", "An animated film noir about heroes.", "An animated film about heroes."),
    # (Korean "own" lines in the one-liner's allow list too: cinerec.llm.posts.korean_lines)
    (SNATCH, "ko", "반전이 있는 드라마예요.", "유쾌한 범죄 코미디예요."),
    (SNATCH, "ko", "복싱을 다룬 공포 영화예요.", "긴장감 넘치는 스릴러예요."),
    (SNATCH, "ko", "복싱을 다룬 SF영화예요.", "유쾌한 코미디 영화예요."),
    (INCREDIBLES, "ko", "가족이 함께 보는 로맨스 영화예요.", "가족이 함께하는 애니메이션이에요."),
    (CHILDHOOD, "en", "A war film about a crime.", "A dramatic story set in World War II."),
    (SNATCH, "en", "A dramatic heist about boxing.", "A comic heist about boxing."),
]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize(("movie", "language", "foreign", "own"), CASES)
def test_a_foreign_genre_word_cannot_be_written_and_the_cards_own_can(
    pattern, movie: Movie, language: str, foreign: str, own: str
) -> None:
    built = pattern(movie, language)
    assert re.fullmatch(built, own), own
    assert not re.fullmatch(built, foreign), foreign


def test_ordinary_words_that_start_like_a_genre_stay_allowed() -> None:
    built = reason_pattern(SNATCH, "en")
    text = "A mysterious and horrific heist, thrilling and adventurous, warm at heart."
    assert re.fullmatch(built, text)
    # a genre name that starts no ordinary word bans its every form (Qwen wrote "mysteryous")
    assert not re.fullmatch(built, "A mysteryous heist about boxing.")
    assert not re.fullmatch(built, "A heist with horrors and dramas.")
    # glued forms Qwen 0.5B wrote in words_0.5b_v4 and its replays
    glued_forms = ("dramaand", "dramaístico", "dramaTie", "dramatism", "fictionavorably")
    for glued in (*glued_forms, "dramatic", "warMovie", "sciencefiction"):
        assert not re.fullmatch(built, f"It combines action, {glued} suspense."), glued
    assert re.fullmatch(built, "A warm heist with scissors, science and warriors.")
    # a genre word glued to the next word is still the genre word
    assert not re.fullmatch(built, "A DramaComedy heist about boxing.")
    assert not re.fullmatch(built, "A drama-comedy heist about boxing.")


def test_the_cards_title_keywords_and_shown_titles_keep_their_words() -> None:
    built = reason_pattern(SNATCH, "en", HISTORY)  # its prompt may cite the ticked Mystery Men
    assert re.fullmatch(built, "A heist, like Mystery Men, which you watched.")
    assert not re.fullmatch(built, "A heist with drama, like Mystery Men.")
    words = banned_genre_words(CHILDHOOD, mentioned=["Mystery Men"])
    assert "war" not in words and "mystery*" not in words  # "world war ii", "Mystery Men"
    assert "drama" not in words and "드라마*" not in words  # its own genre, in both languages
    assert {"horror*", "공포*", "thriller*", "스릴러*", "crime*", "범죄*"} <= set(words)
    assert "war" in banned_genre_words(SNATCH)


def test_every_catalog_genre_but_children_has_words_in_both_languages() -> None:
    for genre, words in GENRE_WORDS.items():
        english = [w for w in words if w.isascii()]
        korean = [w for w in words if not w.isascii()]
        assert (english and korean) or genre == "Children", genre


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_llama_cpp_compiles_the_card_grammars(pattern, language: str) -> None:
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    schema = {"type": "string", "pattern": pattern(SNATCH, language)}
    gbnf = llama_grammar.json_schema_to_gbnf(json.dumps(schema))
    assert "[.!?]" in gbnf or pattern is review_pattern


@pytest.mark.parametrize("pattern", PATTERNS)
def test_words_are_separated_by_spaces_and_light_punctuation_only(pattern) -> None:
    built = pattern(SNATCH, "en")
    assert re.fullmatch(built, "A heist (boxing, gypsies) with Brad Pitt – a 2000 film!")
    # forced to stop at its word cap, Qwen 0.5B wrote Chinese between words
    assert not re.fullmatch(built, "A great choice for一看.")
    assert not re.fullmatch(built, 'A "heist" film.')
