"""Bayesian Personalized Ranking (Rendle et al. 2009) via ``implicit``'s CPU BPR.

Training is :class:`implicit.cpu.bpr.BayesianPersonalizedRanking` (item factors with a bias
column). Only the item side is kept. A history is folded in by maximising the same BPR
objective for one user with the items fixed, over *all* (history item, other item) pairs
instead of sampled ones:

    max_x  mean_{i in H, j not in H} log σ(s_i - s_j) - λ/2 |x|²,   s = V x + b,

which is smooth and concave, so a few Newton steps (one k x k solve each) reach the optimum.
Only the last ``fold_in_max_items`` history items enter it, which bounds its cost.
An empty or all-unknown history falls back to the popularity order saved with the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

import numpy as np
from threadpoolctl import threadpool_limits

from cinerec.data.types import Interactions, Rated, Vocabulary
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders._common import history_ratings, read_model, write_model
from cinerec.recommenders._factors import FactorRecommender
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.popularity import popularity_scores


@dataclass(frozen=True, slots=True)
class BPRConfig:
    """Hyperparameters of :class:`BPRRecommender`.

    Attributes:
        factors: latent dimensions (implicit adds one bias column).
        learning_rate: SGD step size.
        regularization: L2 weight in training.
        iterations: SGD epochs.
        fold_in_regularization: λ of the fold-in objective (a mean over pairs, so it is on
            a different scale from ``regularization``).
        fold_in_steps: Newton steps of the fold-in.
        fold_in_max_items: only the most recent this many history items enter the fold-in
            (its cost grows with history items x catalog items).
    """

    factors: int = 64
    learning_rate: float = 0.05
    regularization: float = 0.01
    iterations: int = 100
    fold_in_regularization: float = 0.01
    fold_in_steps: int = 5
    fold_in_max_items: int = 256

    def __post_init__(self) -> None:
        if min(self.factors, self.iterations, self.fold_in_steps, self.fold_in_max_items) < 1:
            raise ConfigError(
                "factors, iterations, fold_in_steps and fold_in_max_items must be >= 1"
            )
        if self.learning_rate <= 0 or self.regularization < 0 or self.fold_in_regularization <= 0:
            raise ConfigError(
                "learning_rate and fold_in_regularization must be > 0, regularization >= 0"
            )


class BPRRecommender(FactorRecommender):
    """Pairwise-ranking matrix factorisation with exact fold-in of any history."""

    name = "bpr"

    def __init__(self, config: BPRConfig | None = None) -> None:
        self.config = config or BPRConfig()
        self._items: Vocabulary | None = None
        self._factors: np.ndarray | None = None  # items x (factors + 1); last column: bias
        self._popularity: np.ndarray | None = None
        self._v32 = np.zeros((0, 0), np.float32)  # float32 copies for the fold-in
        self._b32 = np.zeros(0, np.float32)

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Train implicit's BPR on the binary user x item matrix."""
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        cfg = self.config
        matrix = interactions.to_csr(binary=True)
        if matrix.nnz == 0:
            raise ModelError("Cannot train BPR on zero interactions; load ratings first")
        with threadpool_limits(limits=1, user_api="blas"):
            model = BayesianPersonalizedRanking(
                factors=cfg.factors,
                learning_rate=cfg.learning_rate,
                regularization=cfg.regularization,
                iterations=cfg.iterations,
                num_threads=options.threads,
                random_state=options.seed,
            )
            model.fit(matrix, show_progress=options.progress)
        self._set_state(
            interactions.items,
            np.ascontiguousarray(model.item_factors, dtype=np.float64),
            popularity_scores(interactions.frame, interactions.items),
        )

    def _set_state(self, items: Vocabulary, factors: np.ndarray, popularity: np.ndarray) -> None:
        if factors.shape != (len(items), self.config.factors + 1) or len(popularity) != len(items):
            raise ModelError(
                f"BPR arrays do not fit together ({factors.shape} factors, {len(items)} items); "
                "retrain the model"
            )
        self._items, self._factors, self._popularity = items, factors, popularity
        self._v32 = np.ascontiguousarray(factors[:, :-1], dtype=np.float32)
        self._b32 = np.ascontiguousarray(factors[:, -1], dtype=np.float32)

    def _fitted(self) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
        if self._items is None or self._factors is None or self._popularity is None:
            raise ModelError("The BPR model is not trained; call fit() or load an artifact")
        return self._items, self._factors, self._popularity

    def user_factor(self, history: Sequence[Rated]) -> np.ndarray | None:
        """The folded-in user vector (without the bias column), or None if nothing is known."""
        items, factors, _ = self._fitted()
        known = history_ratings(history, items)
        if not known:
            return None
        v, b = self._v32, self._b32
        pos = np.fromiter(known, dtype=np.int64, count=len(known))[-self.config.fold_in_max_items :]
        neg_mask = np.ones(len(items), dtype=bool)
        neg_mask[pos] = False
        vp, vn, bp, bn = v[pos], v[neg_mask], b[pos], b[neg_mask]
        if len(vn) == 0:
            return np.zeros(v.shape[1])
        lam = np.float32(self.config.fold_in_regularization)
        pairs = np.float32(len(pos) * len(vn))
        x = np.zeros(v.shape[1], dtype=np.float32)
        for _ in range(self.config.fold_in_steps):  # Newton steps on a concave objective
            w = 1.0 / (1.0 + np.exp((vp @ x + bp)[:, None] - (vn @ x + bn)[None, :]))
            grad = (w.sum(axis=1) @ vp - w.sum(axis=0) @ vn) / pairs - lam * x
            c = w * (1.0 - w)
            cross = vp.T @ c @ vn
            hessian = (
                (vp.T * c.sum(axis=1)) @ vp + (vn.T * c.sum(axis=0)) @ vn - cross - cross.T
            ) / pairs + lam * np.eye(len(x), dtype=np.float32)
            x = x + np.linalg.solve(hessian, grad).astype(np.float32)
        return x.astype(np.float64)

    def _serving_state(self) -> tuple[Vocabulary, np.ndarray]:
        items, _, popularity = self._fitted()
        return items, popularity

    def item_scores(self, users: np.ndarray) -> np.ndarray:
        """Item factors times one ``(k,)`` or several ``(users, k)`` user vectors, plus the
        item bias (float64)."""
        _, factors, _ = self._fitted()
        return (factors[:, :-1] @ users.T).T + factors[:, -1]

    def save(self, path: Path) -> None:
        """Write item ids, item factors (with bias) and the popularity fallback into ``path``."""
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
            model = cls(BPRConfig(**config))
            ids, factors = arrays["item_ids"], arrays["item_factors"].astype(np.float64)
            popularity = arrays["popularity"].astype(np.float64)
        except (TypeError, KeyError, ConfigError) as exc:
            raise ModelError(f"The BPR model at {path} is incomplete ({exc}); retrain it") from exc
        model._set_state(Vocabulary(ids.tolist()), factors, popularity)
        return model
