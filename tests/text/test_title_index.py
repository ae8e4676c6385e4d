"""Titles and people named in questions: exact, folded, one typo, by year, in Hangul."""

from __future__ import annotations

import pytest

from cinerec.data.types import Movie
from cinerec.text.title_index import TitleIndex, is_title_word, title_keys, words_of

MOVIES = [
    Movie(1, "Memento", 2000, director="Christopher Nolan", cast=("Guy Pearce",)),
    Movie(2, "Inception", 2010, director="Christopher Nolan", cast=("Leonardo DiCaprio",)),
    Movie(3, "Heat", 1995, director="Michael Mann", cast=("Al Pacino",)),
    Movie(4, "Heat", 1986),
    Movie(5, "Up", 2009, director="Pete Docter"),
    Movie(6, "Amelie (Fabuleux destin d'Amélie Poulain, Le)", 2001),
    Movie(7, "Snowpiercer", 2013, director="Bong Joon-ho", cast=("Chris Evans", "Song Kang-ho")),
    Movie(8, "The Host (Gwoemul)", 2006, director="Bong Joon-ho", cast=("Song Kang-ho",)),
    Movie(9, "Manhunter", 1986, director="Michael Mann"),
]
POPULARITY = {1: 150, 2: 300, 3: 100, 4: 3, 5: 90, 6: 120, 7: 30, 8: 20, 9: 25}


@pytest.fixture(scope="module")
def index() -> TitleIndex:
    return TitleIndex(MOVIES, POPULARITY)


def _ids(index: TitleIndex, query: str) -> list[int]:
    return [m.movie_id for m in index.title_matches(query)]


def test_words_split_korean_particles_from_latin_titles() -> None:
    assert words_of("Memento의 감독은? Amélie") == ["memento", "의", "감독은", "amelie"]
    assert title_keys("The Host (Gwoemul)") == {
        "the host gwoemul": True,
        "host gwoemul": True,
        "the host": True,
        "host": True,
        "gwoemul": True,
    }


def test_titles_by_phrase_typo_year_and_case(index: TitleIndex) -> None:
    assert _ids(index, "Who directed Memento?") == [1]
    assert _ids(index, "Memento (2000)의 감독은 누구인가요?") == [1]
    assert _ids(index, "who made incepton") == [2]
    assert _ids(index, "Heat (1986) cast") == [4]
    assert _ids(index, "Heat cast") == [3, 4]
    assert _ids(index, "tell me about amélie") == [6]
    assert _ids(index, "what's up with dreams?") == []
    assert _ids(index, "Is Up good?") == [5]


def test_titles_written_in_hangul(index: TitleIndex) -> None:
    assert _ids(index, "메멘토 감독의 다른 영화는?") == [1]  # Memento, not Manhunter (MNT too)
    assert _ids(index, "인셉션처럼 재미있는 영화") == [2]
    assert _ids(index, "볼만한 영화 추천해줘") == []
    assert _ids(index, "Memento 같은 영화") == [1]  # a Latin match wins, Hangul is not tried


def test_people_in_latin_and_hangul(index: TitleIndex) -> None:
    assert index.person_matches("films by Christopher Nolan") == ["christopher nolan"]
    assert index.person_matches("봉준호 감독 영화") == ["bong joon ho"]
    assert index.person_matches("송강호가 나오는 영화") == ["song kang ho"]
    assert index.movies_of("bong joon ho") == [7, 8]  # most rated first
    assert index.is_person("Michael Mann") and not index.is_person("Los Angeles")
    assert _ids(index, "봉준호 감독 영화") == []  # a name is not read as a title


def test_korean_question_words_are_not_titles() -> None:
    assert is_title_word("메멘토") and is_title_word("메멘토의")
    assert not is_title_word("감독은") and not is_title_word("좋아하는데")
    assert not is_title_word("Memento")


def test_titles_in_generated_text_need_title_case(index: TitleIndex) -> None:
    found = index.titles_in_text("Like Inception, and unlike the heat of Memento (2000).")
    assert [(m.movie_id, m.phrase) for m in found] == [(2, "inception"), (1, "memento")]
    assert index.titles_in_text("It is up to you; inception of an idea.") == []
    assert {m.movie_id for m in index.titles_in_text("Heat is long.")} == {3, 4}
    year_title = TitleIndex([Movie(10, "2012", 2009)], {10: 50})
    assert year_title.titles_in_text("It came out in 2012.") == []  # a year, not the movie


def test_close_titles_share_most_of_the_asked_titles_words() -> None:
    movies = [
        Movie(1, "Batman", 1989),
        Movie(2, "Batman Begins", 2005),
        Movie(3, "Batman Returns", 1992),
        Movie(4, "Top Gun", 1986),
        Movie(5, "Killers, The", 1946),
        Movie(6, "Midnight Run", 1988),
        Movie(7, "Once", 2006),
        Movie(8, "Dune", 1984),
        Movie(9, "It", 2017),
        Movie(10, "By the Gun", 2014),
        Movie(11, "Top Secret!", 1984),
    ]
    popularity = {1: 90, 2: 120, 3: 40, 4: 80, 5: 5, 6: 30, 7: 20, 8: 50, 9: 70, 10: 99, 11: 99}
    index = TitleIndex(movies, popularity)
    # The exact word first, then the most rated.
    assert index.close_titles("The Batman (2022)") == [1, 2, 3]
    assert index.close_titles("The Batman (2022)", limit=1) == [1]
    assert index.close_titles("Top Gun: Maverick") == [4]  # not By the Gun, not Top Secret!
    assert index.close_titles("Dune: Part Two (2024)") == [8]
    assert index.close_titles("Midnight Sushi Run") == [6]
    # One word of three is not close; nor are articles, years or a title of stop words.
    assert index.close_titles("Killers of the Flower Moon") == []
    assert index.close_titles("Everything Everywhere All at Once (2022)") == []
    assert index.close_titles("The (2019)") == [] and index.close_titles("") == []
