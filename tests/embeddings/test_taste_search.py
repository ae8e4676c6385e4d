from __future__ import annotations

from cinerec.embeddings.taste_search import build_query_text, rank_for_taste
from cinerec.text.taste import parse_taste

from .fakes import HashingEmbedder

MOVIES = {
    1: ("Space station drama. Sci-Fi slow-burn.", ("Sci-Fi", "Drama")),
    2: ("Alien horror in space. Sci-Fi slow-burn.", ("Sci-Fi", "Horror")),
    3: ("A romantic comedy in Paris.", ("Romance", "Comedy")),
    4: ("Slow-burn Sci-Fi about time.", ("Sci-Fi",)),
}


def _rank(text: str, n: int = 10, exclude: tuple[int, ...] = ()) -> list[int]:
    embedder = HashingEmbedder()
    ids = list(MOVIES)
    vectors = embedder.embed_passages([MOVIES[i][0] for i in ids])
    genres = {i: MOVIES[i][1] for i in ids}
    recs = rank_for_taste(
        text, embedder=embedder, ids=ids, vectors=vectors, genres=genres, n=n, exclude=exclude
    )
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)
    return [r.movie_id for r in recs]


def test_dislikes_are_filtered_out_in_english_and_korean() -> None:
    assert 2 not in _rank("slow-burn sci-fi, no horror")
    assert 2 not in _rank("느린 SF, 공포는 빼고")
    assert _rank("slow-burn sci-fi, no horror")[0] in (1, 4)


def test_query_drops_negated_words() -> None:
    taste = parse_taste("slow-burn sci-fi, no horror")
    assert "horror" not in build_query_text(taste, "slow-burn sci-fi, no horror").lower()
    assert build_query_text(parse_taste("space dramas"), "space dramas") == "space dramas"


def test_n_and_exclude() -> None:
    assert len(_rank("sci-fi", n=2)) == 2
    assert 4 not in _rank("sci-fi", exclude=(4,))
    assert _rank("sci-fi", n=0) == []
