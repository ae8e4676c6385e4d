"""Hybrid retrieval: title and person matches, relations, BM25, embeddings when ready."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cinerec.config import LLMBackendName, Settings
from cinerec.data.types import Movie
from cinerec.db.repository import upsert_movies
from cinerec.errors import DataError
from cinerec.services import retrieval, similar
from cinerec.services.platform import Platform
from cinerec.services.retrieval import CatalogRetriever
from cinerec.text.title_index import title_keys
from tests.embeddings.fakes import HashingEmbedder

NOLAN = "Christopher Nolan"
MOVIES = [
    Movie(
        1,
        "Memento",
        2000,
        ("Mystery", "Thriller"),
        "A man with no short-term memory.",
        ("memory", "revenge"),
        NOLAN,
        ("Guy Pearce", "Carrie-Anne Moss"),
    ),
    Movie(
        2,
        "Inception",
        2010,
        ("Action", "Sci-Fi"),
        "A thief steals secrets through dreams.",
        ("dream", "heist"),
        NOLAN,
        ("Leonardo DiCaprio", "Joseph Gordon-Levitt"),
    ),
    Movie(
        3,
        "The Prestige",
        2006,
        ("Drama", "Mystery"),
        "Two rival magicians.",
        ("magic", "rivalry"),
        NOLAN,
        ("Hugh Jackman", "Christian Bale"),
    ),
    Movie(
        4,
        "Heat",
        1995,
        ("Action", "Crime"),
        "A detective hunts a crew of thieves.",
        ("heist", "los angeles"),
        "Michael Mann",
        ("Al Pacino", "Robert De Niro"),
    ),
    Movie(5, "Heat", 1986, ("Action",), "A bodyguard in Las Vegas."),
    Movie(
        6,
        "Up",
        2009,
        ("Adventure", "Animation"),
        "An old man flies his house.",
        ("balloon",),
        "Pete Docter",
        ("Ed Asner",),
    ),
    Movie(
        7,
        "Star Wars: Episode IV - A New Hope",
        1977,
        ("Sci-Fi",),
        "A farm boy joins rebels.",
        ("space",),
        "George Lucas",
        ("Mark Hamill",),
    ),
    Movie(
        8,
        "Amelie (Fabuleux destin d'Amélie Poulain, Le)",
        2001,
        ("Comedy", "Romance"),
        "A shy waitress in Paris.",
        ("paris",),
        "Jean-Pierre Jeunet",
        ("Audrey Tautou",),
    ),
    Movie(
        9,
        "The Departed",
        2006,
        ("Crime", "Thriller"),
        "An undercover cop and a mole.",
        ("undercover",),
        "Martin Scorsese",
        ("Leonardo DiCaprio", "Matt Damon"),
    ),
    Movie(
        10,
        "Paddington",
        2014,
        ("Comedy", "Children"),
        "A bear comes to London.",
        ("bear", "london"),
        "Paul King",
        ("Ben Whishaw",),
    ),
]
POPULARITY = {1: 200, 2: 300, 3: 150, 4: 250, 5: 3, 6: 120, 7: 330, 8: 180, 9: 210, 10: 40}


@pytest.fixture(scope="module")
def retriever() -> CatalogRetriever:
    return CatalogRetriever(MOVIES, POPULARITY)


def _ids(hits: list[retrieval.RetrievalHit]) -> list[int]:
    return [h.movie.movie_id for h in hits]


def test_title_keys_cover_articles_alternatives_and_subtitles() -> None:
    assert title_keys("The Prestige") == {"the prestige": True, "prestige": True}
    amelie = title_keys("Amelie (Fabuleux destin d'Amélie Poulain, Le)")
    assert amelie["amelie"] is True and amelie["le fabuleux destin damelie poulain"] is True
    assert title_keys("Star Wars: Episode IV - A New Hope")["star wars"] is False


def test_director_of_a_named_movie(retriever: CatalogRetriever) -> None:
    hits = retriever.search("other films by the director of Memento?", k=4)
    assert _ids(hits)[0] == 1 and hits[0].sources[0] == "title"
    assert set(_ids(hits)[1:3]) == {2, 3}  # Nolan's other films, most rated first
    assert all("same-director" in h.sources for h in hits[1:3])


def test_cast_relation_and_person_names(retriever: CatalogRetriever) -> None:
    hits = retriever.search("what else did the star of Inception act in?", k=3)
    assert _ids(hits)[:2] == [2, 9]  # DiCaprio is also in The Departed
    person = retriever.search("films with Leonardo DiCaprio", k=3)
    assert set(_ids(person)[:2]) == {2, 9} and "person" in person[0].sources


def test_titles_match_after_folding_and_one_typo(retriever: CatalogRetriever) -> None:
    assert _ids(retriever.search("tell me about amélie", k=1)) == [8]
    assert _ids(retriever.search("who directed the prestige", k=1)) == [3]
    assert _ids(retriever.search("Who made Incepton?", k=1)) == [2]
    match = retriever.title_matches("Who made Incepton?")[0]
    assert (match.movie_id, match.exact) == (2, False)


def test_a_year_picks_between_equal_titles(retriever: CatalogRetriever) -> None:
    assert _ids(retriever.search("Heat (1986) cast", k=2)) == [5, 4]
    assert _ids(retriever.search("Heat cast", k=2)) == [4, 5]  # most rated first


def test_common_words_are_titles_only_when_capitalized_or_quoted(
    retriever: CatalogRetriever,
) -> None:
    assert retriever.title_matches("what's up with dreams?") == []
    assert [m.movie_id for m in retriever.title_matches("Is Up good for kids?")] == [6]
    assert [m.movie_id for m in retriever.title_matches('movies like "up"')] == [6]


def test_free_text_and_korean_fall_back_to_bm25(retriever: CatalogRetriever) -> None:
    hits = retriever.search("thieves stealing secrets in dreams", k=3)
    assert _ids(hits)[0] == 2 and "bm25" in hits[0].sources
    assert retriever.search("전혀 관련 없는 질문", k=3) == []
    assert 2 not in _ids(retriever.search("dreams heist", k=5, exclude=[2]))


def test_similar_without_embeddings_uses_keywords(retriever: CatalogRetriever) -> None:
    hits = retriever.search("something like Heat (1995)", k=3)
    assert _ids(hits)[0] == 4
    assert any("similar" in h.sources for h in hits[1:])


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    settings = Settings(
        home=tmp_path / "home", cache_dir=tmp_path / "cache", llm_backend=LLMBackendName.NONE
    )
    platform = Platform(settings)
    platform.migrate()
    with platform.session() as session:
        upsert_movies(session, movies=MOVIES, popularity=POPULARITY)
    return platform


def test_platform_retrieval_is_bm25_only_until_embeddings_are_built(platform: Platform) -> None:
    assert retrieval.embeddings_ready(platform) is False
    hits = retrieval.retrieve(platform, "a shy waitress in paris", k=3)
    assert _ids(hits)[0] == 8 and all("embedding" not in h.sources for h in hits)
    assert retrieval.catalog_retriever(platform) is retrieval.catalog_retriever(platform)

    similar.catalog_index(platform, embedder=HashingEmbedder())
    assert retrieval.embeddings_ready(platform) is True
    hits = retrieval.retrieve(platform, "a shy waitress in paris", k=3)
    assert _ids(hits)[0] == 8 and "embedding" in hits[0].sources
    like = retrieval.retrieve(platform, "something like Heat (1995)", k=3)
    assert _ids(like)[0] == 4 and any("similar" in h.sources for h in like[1:])


def test_background_build_does_not_block(platform: Platform) -> None:
    assert retrieval.start_embedding_build(platform, embedder=HashingEmbedder()) is True
    assert retrieval.start_embedding_build(platform, embedder=HashingEmbedder()) is False
    deadline = time.time() + 30
    while not retrieval.embeddings_ready(platform) and time.time() < deadline:
        time.sleep(0.05)
    assert retrieval.embeddings_ready(platform)


def test_the_retriever_follows_catalog_changes(platform: Platform) -> None:
    first = retrieval.catalog_retriever(platform)
    with platform.session() as session:
        upsert_movies(session, movies=[Movie(11, "Dunkirk", 2017, ("War",), director=NOLAN)])
    second = retrieval.catalog_retriever(platform)
    assert second is not first and 11 in second.movies


def test_an_empty_catalog_is_a_clear_error(tmp_path: Path) -> None:
    platform = Platform(Settings(home=tmp_path, llm_backend=LLMBackendName.NONE))
    platform.migrate()
    with pytest.raises(DataError, match="cinerec ingest"):
        retrieval.retrieve(platform, "anything")


def test_review_verdicts_are_searched_once_summaries_are_stored(platform: Platform) -> None:
    from cinerec.db.review_summaries import AspectRecord, ReviewSummary, replace_review_summaries

    before = retrieval.catalog_retriever(platform)
    assert 10 not in _ids(before.search("praised acting", k=3))
    with platform.session() as session:
        replace_review_summaries(
            session,
            summaries=[ReviewSummary(10, 9, 0.9, (AspectRecord("acting", 6, 0.95),))],
            source="imdb",
            model="test",
        )
    after = retrieval.catalog_retriever(platform)  # rebuilt: the summary count changed
    assert after is not before and _ids(after.search("praise the acting", k=3))[0] == 10
