"""Consonant skeletons: English titles and names written in Hangul meet their originals."""

from __future__ import annotations

import pytest

from cinerec.text.hangul import hangul_skeleton, latin_skeleton, strip_particle


@pytest.mark.parametrize(
    ("hangul", "latin"),
    [
        ("메멘토", "Memento"),
        ("인셉션", "Inception"),
        ("타이타닉", "Titanic"),
        ("인터스텔라", "Interstellar"),
        ("매트릭스", "The Matrix"),
        ("해리 포터", "Harry Potter"),
        ("다크 나이트", "The Dark Knight"),
        ("포레스트 검프", "Forrest Gump"),
        ("파이트 클럽", "Fight Club"),
        ("토이 스토리", "Toy Story"),
        ("킹콩", "King Kong"),
        ("어벤져스", "The Avengers"),
        ("스타워즈", "Star Wars"),
        ("펄프 픽션", "Pulp Fiction"),
        ("봉준호", "Bong Joon-ho"),
        ("크리스토퍼 놀란", "Christopher Nolan"),
    ],
)
def test_loanword_spellings_share_the_skeleton(hangul: str, latin: str) -> None:
    assert hangul_skeleton(hangul) == latin_skeleton(latin)


def test_different_words_differ() -> None:
    assert hangul_skeleton("기생충") != latin_skeleton("Parasite")  # a translated title
    assert hangul_skeleton("감독") != latin_skeleton("Memento")
    assert latin_skeleton("Amélie") == latin_skeleton("Amelie")
    assert hangul_skeleton("Memento 2000") == ""  # only Hangul counts


def test_particles_are_stripped_but_not_whole_words() -> None:
    assert strip_particle("메멘토의") == "메멘토"
    assert strip_particle("인셉션처럼") == "인셉션"
    assert strip_particle("의") == "의"
    assert strip_particle("영화") == "영화"
