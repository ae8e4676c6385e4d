"""The base of the matrix-factorisation recommenders (ALS, BPR): training through ``implicit``,
the saved state, and serving.

:meth:`FactorRecommender.fit` trains the subclass's ``implicit`` model
(:meth:`~FactorRecommender._implicit_model`) and keeps only its item factors and a popularity
fallback; ``save`` and ``load`` write and read those arrays. A factor model folds a history
into a latent user vector (:meth:`FactorRecommender.user_factor`, each model its own way) and
scores every item from it (:meth:`FactorRecommender.item_scores`); a history with no known
movie gets the popularity order saved with the model. This base turns those two into
``recommend`` (one history) and ``score_batch`` (many histories, one matrix product), so both
paths rank by the same scores.

Private to :mod:`cinerec.recommenders`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from threadpoolctl import threadpool_limits

from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders._common import blocked_indices, check_n, read_model, top_n, write_model
from cinerec.recommenders.base import ScoreMatrix, TrainingOptions
from cinerec.recommenders.popularity import popularity_scores


class FactorRecommender:
    """Base of :class:`~cinerec.recommenders.als.ALSRecommender` and
    :class:`~cinerec.recommenders.bpr.BPRRecommender`.

    Subclasses set :attr:`label`, :attr:`config_class`, :attr:`factor_dtype` and
    :attr:`bias_columns`, and implement :meth:`_implicit_model`, :meth:`user_factor` and
    :meth:`item_scores` (and :meth:`_prepare` for what they cache from the factors,
    :meth:`_binary` when they train on ratings).
    """

    name: str
    config: Any
    label: ClassVar[str]
    """The model's name in messages ("ALS")."""
    config_class: ClassVar[type]
    factor_dtype: ClassVar[type] = np.float32
    bias_columns: ClassVar[int] = 0
    """Columns ``implicit`` adds to the item factors (BPR's item bias)."""

    def __init__(self, config: Any = None) -> None:
        self.config = config or self.config_class()
        self._items: Vocabulary | None = None
        self._factors: np.ndarray | None = None  # items x (factors + bias_columns)
        self._popularity: np.ndarray | None = None

    # Training and state -----------------------------------------------------------------------
    def _implicit_model(self, options: TrainingOptions) -> Any:
        """An untrained ``implicit`` CPU model with this config, ``options``' seed and threads."""
        raise NotImplementedError

    def _prepare(self, factors: np.ndarray) -> None:
        """Cache what serving needs from freshly set factors (nothing by default)."""

    def _binary(self) -> bool:
        """Train on 1 per watched movie (True) or on the ratings."""
        return True

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Factorise the user x item matrix; ``options`` gives seed, threads and progress."""
        matrix = interactions.to_csr(binary=self._binary())
        if matrix.nnz == 0:
            raise ModelError(f"Cannot train {self.label} on zero interactions; load ratings first")
        # implicit runs its own threads; a multi-threaded BLAS underneath slows it badly.
        with threadpool_limits(limits=1, user_api="blas"):
            model = self._implicit_model(options)
            model.fit(matrix, show_progress=options.progress)
        self._set_state(
            interactions.items,
            np.ascontiguousarray(model.item_factors, dtype=self.factor_dtype),
            popularity_scores(interactions.frame, interactions.items),
        )

    def _set_state(self, items: Vocabulary, factors: np.ndarray, popularity: np.ndarray) -> None:
        width = self.config.factors + self.bias_columns
        if factors.shape != (len(items), width) or popularity.shape != (len(items),):
            raise ModelError(
                f"{self.label} arrays do not fit together (factors {factors.shape}, "
                f"{len(items)} items, popularity {popularity.shape}); retrain the model"
            )
        self._items, self._factors, self._popularity = items, factors, popularity
        self._prepare(factors)

    def _fitted(self) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
        if self._items is None or self._factors is None or self._popularity is None:
            raise ModelError(
                f"The {self.label} model is not trained; call fit() or load an artifact"
            )
        return self._items, self._factors, self._popularity

    def _serving_state(self) -> tuple[Vocabulary, np.ndarray]:
        """The item vocabulary and the popularity fallback (ModelError when not trained)."""
        items, _, popularity = self._fitted()
        return items, popularity

    def save(self, path: Path) -> None:
        """Write item ids, item factors and the popularity fallback into directory ``path``."""
        items, factors, popularity = self._fitted()
        write_model(
            path,
            name=self.name,
            config=asdict(self.config),
            item_ids=items.ids,
            item_factors=factors,
            popularity=popularity,
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`; :class:`ModelError` if missing or corrupt."""
        config, arrays = read_model(path, name=cls.name)
        try:
            model = cls(cls.config_class(**config))
            ids = arrays["item_ids"]
            factors = np.ascontiguousarray(arrays["item_factors"], dtype=cls.factor_dtype)
            popularity = arrays["popularity"].astype(np.float64)
        except (TypeError, KeyError, ConfigError) as exc:
            raise ModelError(
                f"The {cls.label} model at {path} is incomplete ({exc}); retrain it"
            ) from exc
        model._set_state(Vocabulary(ids.tolist()), factors, popularity)
        return model

    # Serving ----------------------------------------------------------------------------------

    def user_factor(self, history: Sequence[Rated]) -> np.ndarray | None:
        """The folded-in user vector of a history, or None when no movie in it is known."""
        raise NotImplementedError

    def item_scores(self, users: np.ndarray) -> np.ndarray:
        """Scores of every item for a user vector ``(k,)`` -> ``(items,)``, or for stacked
        vectors ``(users, k)`` -> ``(users, items)``."""
        raise NotImplementedError

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """Top ``n`` items for a folded-in history; popularity order if nothing in it is known.

        Scores are model scores or popularity scores (fallback); compare them only within one
        list.
        """
        check_n(n)
        items, popularity = self._serving_state()
        x = self.user_factor(history)
        scores = popularity if x is None else self.item_scores(x)
        return top_n(scores, items, n, blocked_indices(history, exclude, items))

    def score_batch(self, histories: Sequence[Sequence[Rated]]) -> ScoreMatrix:
        """Scores of every item for each history: one fold-in per history, then one matrix
        product for all of them (rows with no known movie: the popularity scores)."""
        items, popularity = self._serving_state()
        out = np.empty((len(histories), len(items)))
        out[:] = popularity
        factors = [self.user_factor(h) for h in histories]
        known = [row for row, x in enumerate(factors) if x is not None]
        if known:
            out[known] = self.item_scores(np.stack([factors[row] for row in known]))
        return ScoreMatrix(items, out)
