"""Content-based recommender: a user's profile is the rating-weighted mean of the embeddings
of the movies in their history; items are ranked by cosine similarity to it.

Needs no interactions beyond the history itself, so it works from the first ticked movie
(cold start). Ratings weigh as ``rating - neutral_rating`` (a 1-star movie pushes the
profile away from itself); a movie ticked without a rating counts as ``unrated_weight``.
An empty or all-unknown history falls back to popularity. A small popularity prior
(``popularity_weight``) can be mixed in.

Example:
    >>> model = ContentRecommender(ContentConfig(embedder="fast-use"))  # doctest: +SKIP
    >>> model.fit(interactions, TrainingOptions())  # doctest: +SKIP
    >>> model.recommend([Rated(1, 5.0)], n=10)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

import numpy as np

from cinerec.config import default_cache_dir
from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.embeddings.base import Embedder, l2_normalize
from cinerec.embeddings.cache import EmbeddingCache
from cinerec.embeddings.registry import build_embedder
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders._common import (
    blocked_indices,
    history_ratings,
    read_model,
    top_n,
    write_model,
)
from cinerec.recommenders.base import TextSource, TrainingOptions
from cinerec.recommenders.popularity import popularity_scores


@dataclass(frozen=True, slots=True)
class ContentConfig:
    """How items are embedded and how a history becomes a profile.

    Attributes:
        embedder: registry name in :mod:`cinerec.embeddings.registry`.
        model_dir: a fine-tuned MiniLM directory (``embedder="minilm"`` only).
        cache_dir: embedding cache (None: ``<user cache>/cinerec/embeddings``).
        data_dir: unused (kept so that older saved configs still load); the caller passes the
            descriptions (:meth:`ContentRecommender.fit_texts`).
        dataset: MovieLens variant whose catalog the caller's descriptions come from.
        neutral_rating: ratings above it pull the profile, below it push.
        unrated_weight: weight of a movie ticked without a rating.
        popularity_weight: weight of the normalised log-popularity added to the cosine.
    """

    embedder: str = "fast-use"
    model_dir: str | None = None
    cache_dir: str | None = None
    data_dir: str | None = None
    dataset: str = "ml-latest-small"
    neutral_rating: float = 2.5
    unrated_weight: float = 1.5
    popularity_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.unrated_weight <= 0:
            raise ConfigError(f"unrated_weight must be positive, got {self.unrated_weight}")
        if self.popularity_weight < 0:
            raise ConfigError(f"popularity_weight must be >= 0, got {self.popularity_weight}")


class ContentRecommender:
    """Ranks items by cosine similarity between their description and the history's profile.

    Args:
        config: typed settings.
        embedder: an embedder instance (default: built from ``config.embedder``).
        texts: movie id -> description; or given later with :meth:`fit_texts` (the model reads
            no data from disk). Items without a text get a zero vector (score 0).
    """

    name = "content"

    def __init__(
        self,
        config: ContentConfig | None = None,
        *,
        embedder: Embedder | None = None,
        texts: Mapping[int, str] | None = None,
    ) -> None:
        self.config = config or ContentConfig()
        self._embedder = embedder
        self._texts = texts
        self._text_source: TextSource | None = None
        self._items: Vocabulary | None = None
        self._vectors: np.ndarray | None = None
        self._prior: np.ndarray | None = None

    def fit_texts(self, texts: TextSource) -> None:
        """Where the items' descriptions come from; the next :meth:`fit` calls it."""
        self._text_source = texts

    def _catalog_texts(self) -> Mapping[int, str]:
        if self._texts is None and self._text_source is not None:
            self._texts = self._text_source()
        if self._texts is None:
            raise ModelError(
                "The content model needs the movies' descriptions: pass texts= or call "
                "fit_texts() (e.g. cinerec.recommenders.base.give_texts) before fit()"
            )
        return self._texts

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Embed the description of every item in ``interactions`` (cached on disk)."""
        texts = self._catalog_texts()
        embedder = self._embedder or build_embedder(
            self.config.embedder,
            threads=options.threads,
            model_dir=Path(self.config.model_dir) if self.config.model_dir else None,
        )
        items = interactions.items
        ids = items.ids.tolist()
        known = [i for i in ids if texts.get(i)]
        cache_root = (
            Path(self.config.cache_dir)
            if self.config.cache_dir
            else default_cache_dir() / "embeddings"
        )
        vectors = np.zeros((len(ids), embedder.dim), np.float32)
        if known:
            embedded = EmbeddingCache(cache_root).embed(embedder, [texts[i] for i in known])
            vectors[items.indices(known)] = embedded
        counts = popularity_scores(interactions.frame, items)
        prior = np.log1p(np.floor(counts))
        self._items = items
        self._vectors = vectors
        self._prior = prior / prior.max() if prior.max() > 0 else prior

    def _fitted(self) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
        if self._items is None or self._vectors is None or self._prior is None:
            raise ModelError("The content model is not trained; call fit() or load an artifact")
        return self._items, self._vectors, self._prior

    def profile(self, history: Sequence[Rated]) -> np.ndarray | None:
        """The unit profile vector of ``history`` (None when it says nothing)."""
        items, vectors, _ = self._fitted()
        weights = history_ratings(history, items)
        if not weights:
            return None
        index = np.fromiter(weights, dtype=np.int64)
        w = np.array(
            [
                self.config.unrated_weight if r is None else r - self.config.neutral_rating
                for r in weights.values()
            ],
            dtype=np.float32,
        )
        vector = w @ vectors[index]
        if not np.any(vector):
            return None
        return l2_normalize(vector)

    def scores(self, history: Sequence[Rated]) -> np.ndarray:
        """One score per item: cosine to the profile plus the popularity prior (popularity
        alone when the history has no known item)."""
        _, vectors, prior = self._fitted()
        vector = self.profile(history)
        if vector is None:
            return prior.astype(np.float64)
        return vectors @ vector + self.config.popularity_weight * prior

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """The ``n`` items closest to the history's profile, not in ``history`` or ``exclude``."""
        items, _, _ = self._fitted()
        return top_n(self.scores(history), items, n, blocked_indices(history, exclude, items))

    def save(self, path: Path) -> None:
        """Write ids, item vectors and the prior (no model weights are needed to recommend)."""
        items, vectors, prior = self._fitted()
        write_model(
            path,
            name=self.name,
            config=asdict(self.config),
            item_ids=items.ids,
            vectors=vectors,
            prior=prior,
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`; :class:`ModelError` if missing or corrupt."""
        config, arrays = read_model(path, name=cls.name)
        try:
            model = cls(ContentConfig(**config))
            ids, vectors, prior = arrays["item_ids"], arrays["vectors"], arrays["prior"]
        except (TypeError, KeyError) as exc:
            raise ModelError(f"The content model at {path} is incomplete ({exc})") from exc
        if len(ids) != len(vectors) or len(ids) != len(prior):
            raise ModelError(f"The content model at {path} is inconsistent; retrain it")
        model._items = Vocabulary(ids.tolist())
        model._vectors = vectors.astype(np.float32)
        model._prior = prior.astype(np.float64)
        return model
