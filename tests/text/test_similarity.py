"""Text similarity for keeping one-liners distinct: Jaccard, char n-grams, titles stripped."""

from __future__ import annotations

from cinerec.text.similarity import (
    char_ngram_cosine,
    mean_pairwise_similarity,
    plain_text,
    text_similarity,
    token_jaccard,
)


def test_identical_and_unrelated_texts() -> None:
    assert text_similarity("A tense heist.", "a TENSE heist!") == 1.0
    unrelated = text_similarity("Quiet rain over Tokyo rooftops.", "Explosions, cars and guns.")
    assert unrelated < 0.3
    assert text_similarity("", "anything") == 0.0


def test_templates_around_titles_count_as_alike_once_titles_are_stripped() -> None:
    a, b = "Heat is a gripping thriller.", "The Godfather is a gripping thriller."
    assert text_similarity(a, b, strip=["Heat", "The Godfather"]) == 1.0
    assert text_similarity(a, b) < 1.0


def test_korean_particles_do_not_hide_a_repeat() -> None:
    a, b = "가족의 사랑을 그린 따뜻한 영화", "가족을 사랑한 따뜻한 영화야"
    assert token_jaccard(plain_text(a), plain_text(b)) < 0.35  # whole words barely overlap
    assert char_ngram_cosine(plain_text(a), plain_text(b), n=2) > 0.5  # syllable bigrams do
    assert text_similarity(a, b) > 0.5
    assert text_similarity("비 오는 창가의 잔잔한 이야기", "숨 막히는 긴장감이 끝까지") < 0.2


def test_mean_pairwise() -> None:
    assert mean_pairwise_similarity(["one"]) == 0.0
    same = mean_pairwise_similarity(["a b c", "a b c", "a b c"])
    assert same == 1.0
    mixed = mean_pairwise_similarity(["a b c", "a b c", "x y z"])
    assert 0.0 < mixed < 1.0
