"""Rank movies for a free-text taste ("slow-burn sci-fi, no horror", "공포 말고 SF").

The text is parsed by :func:`cinerec.text.taste.parse_taste`. Embedders do not understand
negation ("no horror" lands *near* horror), so when the taste states dislikes the query
embedded is rebuilt from what is liked (liked genres and the remaining free terms), and every
movie with a disliked genre is filtered out. Liked genres add a small bonus to the cosine.

Example:
    >>> build_query_text(parse_taste("slow-burn sci-fi, no horror"))
    'Sci-Fi slow-burn'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from cinerec.data.types import ScoredItem
from cinerec.embeddings.base import Embedder
from cinerec.text.taste import Taste, parse_taste, taste_genre_scores

LIKED_GENRE_BONUS = 0.03
"""Added to the cosine per liked genre a movie has (cosines of one query span ~0.2-0.6)."""

__all__ = ["LIKED_GENRE_BONUS", "build_query_text", "parse_taste", "rank_for_taste"]


def build_query_text(taste: Taste, original: str = "") -> str:
    """What to embed for a taste: the original text unless it states dislikes, else the liked
    genres and free terms (the original again when nothing is left)."""
    if not taste.disliked_genres and original.strip():
        return original.strip()
    positive = " ".join([*taste.liked_genres, *taste.free_terms]).strip()
    return positive or original.strip()


def rank_for_taste(
    text: str,
    *,
    embedder: Embedder,
    ids: Sequence[int],
    vectors: np.ndarray,
    genres: Mapping[int, Sequence[str]],
    n: int,
    exclude: Collection[int] = (),
) -> list[ScoredItem]:
    """The ``n`` movies that best fit ``text``; none has a disliked genre or is in ``exclude``.

    Args:
        text: the user's taste, any language the embedder reads.
        embedder: embeds the query (the same model that embedded ``vectors``).
        ids: movie id of each row of ``vectors``.
        vectors: unit description embeddings.
        genres: movie id -> genres (for the dislike filter and the liked bonus).
        n: list length.
        exclude: ids never returned (seen, already shown).
    """
    if n <= 0 or not len(ids):
        return []
    taste = parse_taste(text)
    query = build_query_text(taste, text)
    if not query:
        return []
    scores = vectors @ embedder.embed_query(query)
    blocked = {int(i) for i in exclude}
    ranked: list[tuple[float, int]] = []
    for position, movie_id in enumerate(ids):
        if int(movie_id) in blocked:
            continue
        fit = taste_genre_scores(taste, tuple(genres.get(int(movie_id), ())))
        if fit < 0:
            continue
        ranked.append((float(scores[position]) + LIKED_GENRE_BONUS * fit, int(movie_id)))
    ranked.sort(key=lambda pair: (-pair[0], pair[1]))
    return [ScoredItem(movie_id, score) for score, movie_id in ranked[:n]]
