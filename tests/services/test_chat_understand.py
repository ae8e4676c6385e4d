"""Question understanding in code, on a small catalog: kinds, entities and follow-ups."""

from __future__ import annotations

import pytest

from cinerec.data.types import Movie
from cinerec.services.chat_understand import ChatState, understand
from cinerec.services.retrieval import CatalogRetriever
from tests.services.test_retrieval import MOVIES, POPULARITY


@pytest.fixture(scope="module")
def retriever() -> CatalogRetriever:
    return CatalogRetriever(MOVIES, POPULARITY)


def test_single_facts_name_the_movie_and_the_field(retriever: CatalogRetriever) -> None:
    q = understand("Who directed Memento?", retriever=retriever)
    assert (q.kind, q.field, [m.movie_id for m in q.movies]) == ("fact", "director", [1])
    assert understand("Memento의 감독은 누구인가요?", retriever=retriever).field == "director"
    assert understand("When was Inception released?", retriever=retriever).field == "year"
    assert understand("Inception에 출연한 배우는?", retriever=retriever).field == "cast"
    assert understand("What genre is Heat (1995)?", retriever=retriever).movies[0].movie_id == 4


def test_lists_by_person_and_by_decade_and_genre(retriever: CatalogRetriever) -> None:
    q = understand("Which movies did Christopher Nolan direct?", retriever=retriever)
    assert (q.kind, q.person, q.role) == ("list", "Christopher Nolan", "director")
    q = understand("movies with Leonardo DiCaprio from the 2000s", retriever=retriever)
    assert (q.kind, q.person, q.year_from, q.year_to) == ("list", "Leonardo DiCaprio", 2000, 2009)
    q = understand("90년대 코미디 영화 알려줘", retriever=retriever)
    assert (q.kind, q.genre, q.year_from, q.year_to) == ("list", "Comedy", 1990, 1999)
    q = understand("other films by the director of Memento", retriever=retriever)
    assert (q.kind, q.person, q.exclude) == ("list", "Christopher Nolan", (1,))


def test_follow_ups_resolve_from_the_stored_state(retriever: CatalogRetriever) -> None:
    after = ChatState(movie_ids=(1,), person="Christopher Nolan", role="director")
    q = understand("and what else did he direct?", retriever=retriever, state=after)
    assert (q.kind, q.person, q.role, q.exclude) == ("list", "Christopher Nolan", "director", (1,))
    assert q.follow_up
    q = understand("그 감독의 다른 영화는?", retriever=retriever, state=ChatState(movie_ids=(1,)))
    assert (q.kind, q.person, q.exclude) == ("list", "Christopher Nolan", (1,))
    q = understand("who starred in it?", retriever=retriever, state=after)
    assert (q.kind, q.field, q.movies[0].movie_id) == ("fact", "cast", 1)
    listed = ChatState(listed_ids=(2, 3, 1))
    q = understand("who directed the second one?", retriever=retriever, state=listed)
    assert (q.kind, q.field, q.movies[0].movie_id) == ("fact", "director", 3)
    assert understand("and what else did he direct?", retriever=retriever).kind == "open"


def test_a_new_list_of_its_own_does_not_inherit_the_last_person(
    retriever: CatalogRetriever,
) -> None:
    # Seen on the Korean chat page: after two questions about Nolan, "2000년대 로맨스 영화
    # 알려줘" answered "no 2000s romance by or with Christopher Nolan".
    after = ChatState(movie_ids=(1,), person="Christopher Nolan", role="director")
    for question in ("2000년대 로맨스 영화 알려줘", "list some comedies from the 90s"):
        q = understand(question, retriever=retriever, state=after)
        assert q.kind == "list" and q.person is None and not q.follow_up, (question, q)
    # A list that says nothing new still goes on about him.
    assert understand("what else?", retriever=retriever, state=after).person == "Christopher Nolan"


def test_comparisons_and_what_the_catalog_cannot_know(retriever: CatalogRetriever) -> None:
    q = understand("Which is older, The Departed or Memento?", retriever=retriever)
    assert (q.kind, q.order, {m.movie_id for m in q.movies}) == ("compare", "older", {9, 1})
    q = understand("Memento와 Inception 중 어느 영화가 더 오래됐나요?", retriever=retriever)
    assert (q.kind, q.order) == ("compare", "older")
    assert understand("Who will direct the next Nolan film?", retriever=retriever).kind == "future"
    q = understand("Who directed Inception (2031)?", retriever=retriever)
    assert q.kind == "not_in_catalog"
    assert understand("Who directed Zorblax Returns?", retriever=retriever).kind == "not_in_catalog"
    assert understand("What are good movies about dreams?", retriever=retriever).kind == "open"


def test_the_state_round_trips_and_survives_junk() -> None:
    state = ChatState(movie_ids=(1, 2), person="Pete Docter", role="director", listed_ids=(6,))
    assert ChatState.from_json(state.to_json()) == state
    assert ChatState.from_json({"movie_ids": ["x"]}) == ChatState()
    assert ChatState.from_json(None) == ChatState()


def test_a_movie_the_catalog_lacks_keeps_the_asked_title_and_finds_close_ones() -> None:
    batman = Movie(592, "Batman", 1989, ("Action",))
    begins = Movie(33794, "Batman Begins", 2005, ("Action",))
    retriever = CatalogRetriever([*MOVIES, batman, begins], {**POPULARITY, 592: 90, 33794: 120})
    for question in ("Who directed The Batman (2022)?", "The Batman (2022)의 감독은 누구인가요?"):
        q = understand(question, retriever=retriever)
        assert q.kind == "not_in_catalog", question
        assert q.asked_title == "The Batman (2022)", q.asked_title
        assert [m.movie_id for m in q.near] == [592, 33794]
    q = understand("Who directed Zorblax Returns?", retriever=retriever)
    assert (q.kind, q.asked_title, q.near) == ("not_in_catalog", "Zorblax Returns", ())


def test_a_movie_the_catalog_lacks_is_named_whole_not_by_the_fragment_that_matched() -> None:
    # Hand-checked sample (words v4): "I could not find that movie 'dune'" for Dune: Part Two,
    # "'once'" for Everything Everywhere All at Once, Korean "'run'" for Midnight Sushi Run,
    # while the catalog has Dune (1984), Once (2006) and Run (1991).
    dune = Movie(2021, "Dune", 1984, ("Sci-Fi",))
    once = Movie(55247, "Once", 2006, ("Drama",))
    run = Movie(26662, "Run", 1991, ("Action",))
    retriever = CatalogRetriever([*MOVIES, dune, once, run], {**POPULARITY, 2021: 40})
    for question, title in (
        ("Tell me about Dune: Part Two (2024)", "Dune: Part Two (2024)"),
        ("Is Everything Everywhere All at Once (2022) any good?",
         "Everything Everywhere All at Once (2022)"),
        ("Midnight Sushi Run (2009) 줄거리 알려줘", "Midnight Sushi Run (2009)"),
    ):  # fmt: skip
        q = understand(question, retriever=retriever)
        assert (q.kind, q.asked_title) == ("not_in_catalog", title), (question, q)


def test_a_title_inside_a_longer_asked_title_is_not_that_movie() -> None:
    # chatfix's closing note: "Tell me about Everything Everywhere All at Once" (no year) was
    # answered about Once (2006), a different movie.
    once = Movie(55247, "Once", 2006, ("Drama",))
    run = Movie(26662, "Run", 1991, ("Action",))
    retriever = CatalogRetriever([*MOVIES, once, run], {**POPULARITY, 55247: 30})
    for question, title in (
        ("Tell me about Everything Everywhere All at Once", "Everything Everywhere All at Once"),
        ("Midnight Sushi Run 줄거리 알려줘", "Midnight Sushi Run"),
    ):
        q = understand(question, retriever=retriever)
        assert (q.kind, q.asked_title) == ("not_in_catalog", title), (question, q)
    # the movie itself, a title with extra words it has, and two named movies still resolve
    assert understand("Tell me about Once", retriever=retriever).movies[0].movie_id == 55247
    assert understand("Who directed Memento?", retriever=retriever).movies[0].movie_id == 1
    q = understand("Is Heat older than Memento?", retriever=retriever)
    assert {m.movie_id for m in q.movies} == {1, 4}, q
