"""build_description: order, optional fields and cutting."""

from __future__ import annotations

from cinerec.data.descriptions import build_description
from cinerec.data.types import Movie

HEAT = Movie(
    movie_id=6,
    title="Heat",
    year=1995,
    genres=("Action", "Crime"),
    director="Michael Mann",
    cast=("Al Pacino", "Robert De Niro"),
    keywords=("heist", "los angeles"),
    overview="A thief plans one last job. A detective hunts him! Who wins? Nobody knows.",
)


def test_full_order() -> None:
    assert build_description(HEAT) == (
        "Heat (1995). Genres: Action, Crime. Directed by Michael Mann. "
        "Starring Al Pacino, Robert De Niro. Keywords: heist, los angeles. "
        "A thief plans one last job. A detective hunts him! Who wins? Nobody knows."
    )


def test_empty_fields_left_out() -> None:
    assert build_description(Movie(1, "Hyena Road")) == "Hyena Road."
    assert build_description(Movie(1, "X", overview="  Just   text. ")) == "X. Just text."


def test_overview_cut_at_sentence_boundary() -> None:
    header = build_description(HEAT, max_chars=10_000).split(" A thief")[0]
    text = build_description(HEAT, max_chars=len(header) + 51)
    assert text == header + " A thief plans one last job. A detective hunts him!"
    assert (
        build_description(HEAT, max_chars=len(header) + 50)
        == header + " A thief plans one last job."
    )


def test_first_sentence_too_long_cut_at_word() -> None:
    header = (
        "Heat (1995). Genres: Action, Crime. Directed by Michael Mann. "
        "Starring Al Pacino, Robert De Niro. Keywords: heist, los angeles."
    )
    long_first = Movie(1, "X", overview="One very long first sentence that goes on and on. Two.")
    assert build_description(long_first, max_chars=40) == "X. One very long first sentence that…"
    # A fragment shorter than 24 characters is not worth keeping.
    assert build_description(HEAT, max_chars=len(header) + 16) == header


def test_keywords_then_parts_dropped_when_header_too_long() -> None:
    movie = Movie(1, "Heat", 1995, ("Crime",), keywords=tuple(f"kw{i}" for i in range(50)))
    text = build_description(movie, max_chars=60)
    assert text == "Heat (1995). Genres: Crime. Keywords: kw0, kw1, kw2, kw3."
    assert build_description(HEAT, max_chars=40) == "Heat (1995). Genres: Action, Crime."
    assert len(build_description(Movie(1, "A very long title indeed"), max_chars=10)) == 10


def test_max_keywords() -> None:
    movie = Movie(1, "K", keywords=tuple("abcdefghijklmnopqrstuvwxyz"))
    assert build_description(movie, max_keywords=3) == "K. Keywords: a, b, c."


def test_never_longer_than_max() -> None:
    for n in range(1, 300, 7):
        assert len(build_description(HEAT, max_chars=n)) <= n


def test_reviews_sentence_comes_before_the_overview_and_is_cut_first() -> None:
    said = "Reviewers praise the acting; criticise the pacing"
    text = build_description(HEAT, reviews=said)
    assert (
        "Keywords: heist, los angeles. Reviewers praise the acting; criticise the pacing. A "
        in text
    )
    header = build_description(HEAT, max_chars=140)
    assert build_description(HEAT, max_chars=140, reviews=said * 5) == header
