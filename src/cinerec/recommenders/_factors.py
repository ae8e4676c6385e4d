"""Serving code shared by the matrix-factorisation recommenders (ALS, BPR).

A factor model folds a history into a latent user vector (:meth:`FactorRecommender.user_factor`,
each model its own way) and scores every item from it (:meth:`FactorRecommender.item_scores`);
a history with no known movie gets the popularity order saved with the model. This base turns
those two into ``recommend`` (one history) and ``score_batch`` (many histories, one matrix
product), so both paths rank by the same scores.

Private to :mod:`cinerec.recommenders`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from cinerec.data.types import Rated, ScoredItem, Vocabulary
from cinerec.recommenders._common import blocked_indices, check_n, top_n
from cinerec.recommenders.base import ScoreMatrix


class FactorRecommender:
    """Base of :class:`~cinerec.recommenders.als.ALSRecommender` and
    :class:`~cinerec.recommenders.bpr.BPRRecommender`.

    Subclasses implement :meth:`user_factor`, :meth:`item_scores` and :meth:`_serving_state`.
    """

    name: str

    def _serving_state(self) -> tuple[Vocabulary, np.ndarray]:
        """The item vocabulary and the popularity fallback (ModelError when not trained)."""
        raise NotImplementedError

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
