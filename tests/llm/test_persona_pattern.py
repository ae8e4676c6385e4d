"""The persona grammar's pattern: whole sentences, bounded, no gendered words, tags or brackets."""

from __future__ import annotations

import json
import re

import pytest

from cinerec.config import Settings
from cinerec.llm.persona import _schema
from cinerec.llm.persona_pattern import (
    FORBIDDEN_WORDS,
    MAX_WORD,
    SUBJECT,
    WORDS,
    capitalized_words,
    persona_max_chars,
    persona_max_tokens,
    persona_pattern,
)
from cinerec.llm.schemas import PERSONA_MAX_CHARS


def matches(text: str, language: str) -> bool:
    return re.fullmatch(persona_pattern(language), text) is not None


GOOD = [
    ("en", "This viewer loves slow-burn sci-fi and clever heist thrillers. They avoid horror."),
    ("en", "This viewer enjoys Heat (1995) and Michael Mann's crime films. They like tension!"),
    ("en", "This viewer likes hero stories, shepherds and heroes. Here, they smile."),
    ("en", "This viewer watches Amélie and other whimsical romances."),
    ("en", "This viewer likes Maleficent, Hermione and malevolent heroes in the heat."),
    ("ko", "이 관객은 잔잔한 로맨스 영화를 좋아합니다. 공포 영화는 피하고 싶어 해요."),
    ("ko", "이 관객은 Heat (1995) 같은 범죄 영화를 좋아합니다. 그리고 그런 영화가 좋아요."),
]


@pytest.mark.parametrize(("language", "text"), GOOD)
def test_whole_sentences_without_gendered_words_match(language: str, text: str) -> None:
    assert matches(text, language)


BAD = [
    ("en", "This viewer loves crime dramas and Heat", "no sentence end"),
    ("en", "This viewer loves crime dramas. They also like movies which features a", "cut"),
    ("en", "This viewer likes [Action, Crime]. They like tension.", "brackets"),
    ("en", 'This viewer likes "Heat". They like tension.', "quotes"),
    ("en", "This viewer likes crime. They like 好 films.", "Chinese"),
    ("en", "This viewer loves IMAX movies. They like tension.", "a tag"),
    ("en", "Viewer loves crime dramas. They like tension.", "not the subject"),
    ("en", "This viewer. Loves crime dramas a lot.", "an empty first sentence"),
    ("en", "This viewer likes crime.\nThey like tension.", "a line break"),
    ("en", "This viewer is a femaleAGER who likes crime.", "a forbidden word glued to another"),
    ("en", "This viewer likes crime films. HeLikes tense thrillers.", "a glued pronoun"),
    ("en", "This viewer avoids IMAXlists and likes crime.", "a glued tag"),
    ("ko", "이 관객은 범죄 영화를 좋아합니다. 스릴러도 즐겨 봅", "cut"),
    ("ko", "이 관객은 30岁 범죄 영화를 좋아합니다.", "Chinese"),
    ("ko", "이 관객은 범죄 영화를 좋아합니까.", "no 다/요 before the end"),
    ("ko", "This viewer likes crime dramas a lot.", "English subject"),
    ("ko", "이 관객은 30세의 남편으로, 코미디 영화를 즐겨 봅니다.", "a spouse says a gender"),
]


@pytest.mark.parametrize(("language", "text", "why"), BAD)
def test_cut_or_malformed_personas_do_not_match(language: str, text: str, why: str) -> None:
    assert not matches(text, language), why


# Hangul cannot appear in an English persona at all; every entry is tried in Korean
CASES = [("ko", e) for e in FORBIDDEN_WORDS] + [("en", e) for e in FORBIDDEN_WORDS if e.isascii()]


@pytest.mark.parametrize(("language", "entry"), CASES)
def test_no_forbidden_word_can_be_written(language: str, entry: str) -> None:
    stem = entry.rstrip("*")
    forms = {stem, stem.capitalize(), stem.upper()}
    if entry.endswith("*"):
        forms |= {stem + "는", stem + "입니다", stem + "반전"}  # glued: 그는반전
    if language == "ko":
        lead = SUBJECT["ko"] + " 범죄 영화를 좋아합니다."
        bad = [f"{lead} {f} 영화를 봅니다." for f in forms]
        bad += [f"{lead} 영화는 {f} 봅니다." for f in forms]
    else:
        lead = SUBJECT["en"] + " likes crime."
        bad = [f"{lead} Also {f} likes tension." for f in forms]
        bad += [f"{lead} They like {f}." for f in forms]
        bad += [f"{lead} They like ({f}) films." for f in forms]
    for text in bad:
        assert not matches(text, language), text
    # the same letters inside a longer word are fine (here, hero, 그리고, 그런)
    if not entry.endswith("*"):
        tail = " films." if language == "en" else " 영화를 봅니다."
        assert matches(f"{lead} They like {stem}x{tail}", language)


def test_bare_geu_is_that_not_a_pronoun() -> None:
    assert matches("이 관객은 그 영화를 좋아합니다. 그리고 그런 영화가 좋아요.", "ko")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_length_is_bounded_and_max_tokens_can_always_close_it(language: str) -> None:
    low, high = WORDS[language]
    word = "a" * MAX_WORD
    end = "." if language == "en" else "다."
    gap = ". " if language == "en" else "다. "
    longest = SUBJECT[language] + (gap + word) * high + end
    assert not matches(longest, language)  # one word too many
    longest = SUBJECT[language] + " " + word + (gap[:-1] + " " + word) * (high - 1) + end
    assert matches(longest, language)
    assert len(longest) <= persona_max_chars(language)
    # every character is at most 3 bytes, every token at least one: the string always closes
    assert persona_max_tokens(language) >= 3 * len(longest.encode("utf-8")) // 3 + 20
    assert persona_max_tokens(language) >= len(longest.encode("utf-8")) + 20
    # and fits the context beside a long prompt (20 watched movies, a 500-character taste)
    assert persona_max_tokens(language) + 1400 <= Settings(llm_backend="none").llm_context
    short = SUBJECT[language] + " a" * (low - 1) + end
    assert not matches(short, language)


def test_a_realistic_persona_fits_the_product_cap() -> None:
    words = "slow burning science fiction".split()
    text = SUBJECT["en"] + " " + " ".join(words[i % 4] for i in range(WORDS["en"][1] - 1)) + "."
    assert matches(text, "en") and len(text) <= PERSONA_MAX_CHARS


@pytest.mark.parametrize("language", ["en", "ko"])
def test_llama_cpp_compiles_the_schema_into_a_grammar(language: str) -> None:
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    gbnf = llama_grammar.json_schema_to_gbnf(json.dumps(_schema(language)))
    # the pattern's own rules (the subject, the sentence end), not free JSON
    assert ("This viewe" if language == "en" else "이 관객") in gbnf
    assert "[.!?]" in gbnf and "[다요]" in gbnf or language == "en"


def evidence_matches(text: str, language: str, liked: list[str]) -> bool:
    return re.fullmatch(persona_pattern(language, (), None, liked=liked), text) is not None


# The v5 hand sample's false raw personas (words_sample100_0.5b_v5.jsonl) and their like.
EVIDENCE_BAD = [
    ("en", "This viewer enjoys romance. They avoid the following words: children, comedy.",
     ["Comedy", "Romance", "Children"], "avoiding a liked genre"),
    ("en", "This viewer does not like comedies and slow dramas.", ["Comedy", "Drama"],
     "a negation"),
    ("en", "This viewer enjoys Thriller, Comedy, and Horror movies.", ["Comedy", "Thriller"],
     "a capitalized genre they do not like"),
    ("en", "This viewer enjoys tense horror films with big scares.", ["Drama"],
     "a genre outside the evidence"),
    ("ko", "이 관객은 드라마, 공포, 감정, 재미, 스타일입니다.", ["Drama", "Romance"],
     "a rejected genre listed as liked"),
    ("ko", "이 관객은 잔잔한 로맨스 영화를 좋아하지 않습니다.", ["Romance"], "a negation"),
    # Qwen 1.5B glued the next word to a banned negation
    ("en", "This viewer enjoys slow-burn sci-fi and nohorror movies.", ["Sci-Fi"], "glued no"),
    ("en", "This viewer likes comedies and has notwatched dramas.", ["Comedy"], "glued not"),
    ("en", "This viewer likes comedies but dontavor the rest.", ["Comedy"], "glued don"),
    ("ko", "이 관객은 제일 좋아하는 영화는 '그리스터 타코스'입니다.", ["Comedy"], "a quote"),
    ("en", "This viewer likes comedies a lot. They like warm comedies. They like comedies a lot.",
     ["Comedy"], "three sentences"),
]  # fmt: skip


@pytest.mark.parametrize(("language", "text", "liked", "why"), EVIDENCE_BAD)
def test_the_evidence_pattern_cannot_write_what_the_evidence_contradicts(
    language: str, text: str, liked: list[str], why: str
) -> None:
    assert not evidence_matches(text, language, liked), why


EVIDENCE_GOOD = [
    ("en", "This viewer loves warm comedies and big romances with happy endings.",
     ["Comedy", "Romance"]),
    ("en", "This viewer enjoys tense crime dramas from the 1990s.", ["Crime", "Drama"]),
    ("ko", "이 관객은 잔잔하고 따뜻한 로맨스 영화를 좋아합니다.", ["Romance"]),
    ("ko", "이 관객은 긴장감 있는 범죄 드라마를 즐겨 봐요.", ["Crime", "Drama"]),
    ("en", "This viewer loves noir, normal lives on film and notable comedies. They like it now.",
     ["Comedy", "Film-Noir"]),
]  # fmt: skip


@pytest.mark.parametrize(("language", "text", "liked"), EVIDENCE_GOOD)
def test_the_evidence_pattern_lets_true_personas_through(
    language: str, text: str, liked: list[str]
) -> None:
    assert evidence_matches(text, language, liked)


def test_a_korean_persona_names_latin_words_only_from_its_titles() -> None:
    names = capitalized_words(["Lord of the Rings"], lowercase=True)
    pattern = persona_pattern("ko", (), names, liked=["Fantasy"])
    assert re.fullmatch(pattern, "이 관객은 Lord of the Rings 같은 판타지 영화를 좋아합니다.")
    assert not re.fullmatch(pattern, "이 관객은 Lord of the Rings 같은 판타지 영화를 즐겨 watches.")


def test_a_korean_genre_word_split_in_two_is_still_banned() -> None:
    # Qwen 0.5B and 1.5B, kept from 공포: "코미디는 공 포는 심은"
    pattern = persona_pattern("ko", (), None, liked=["Comedy"])
    assert not re.fullmatch(pattern, "이 관객은 코미디를 좋아하고 공 포는 심은 영화입니다.")
    assert re.fullmatch(pattern, "이 관객은 코미디를 다 좋아하고 전부터 즐겨 봅니다.")


def test_injection_words_and_korean_fragments_of_fake_titles_cannot_be_written() -> None:
    # Qwen 1.5B's raw personas on red-team tastes (persona_evidence_1.5b.md)
    en = persona_pattern("en", (), capitalized_words(["Heat"], lowercase=True), liked=["Crime"])
    assert not re.fullmatch(en, "This viewer is a model withoutrules who likes crime films.")
    assert not re.fullmatch(en, "This viewer is a modelous individual who likes crime films.")
    assert not re.fullmatch(en, "This viewer thinks Heat is the best crime film ever made.")
    assert not re.fullmatch(en, "This viewer enjoys Heat as the bestfilm ever made.")
    # the English browser page: "with a preference for noudden or shocking elements"
    assert not re.fullmatch(en, "This viewer likes crime films with noudden or shocking turns.")
    assert re.fullmatch(en, "This viewer enjoys tense crime films such as Heat.")
    titles = capitalized_words(["Inception"], lowercase=True, openers=False)
    ko = persona_pattern("ko", (), titles, liked=["Sci-Fi"])
    assert not re.fullmatch(ko, "이 관객은 SF 영화를 좋아하고 In셉션 2도 즐겨 봅니다.")
    assert re.fullmatch(ko, "이 관객은 SF 영화를 좋아하고 Inception을 즐겨 봅니다.")
