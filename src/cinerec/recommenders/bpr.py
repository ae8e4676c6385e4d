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
from dataclasses import dataclass
from typing import Any

import numpy as np

from cinerec.data.types import Rated
from cinerec.errors import ConfigError
from cinerec.recommenders._common import history_ratings
from cinerec.recommenders._factors import FactorRecommender
from cinerec.recommenders.base import TrainingOptions


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
    label = "BPR"
    config_class = BPRConfig
    factor_dtype = np.float64
    bias_columns = 1  # implicit's item bias, the last column

    def __init__(self, config: BPRConfig | None = None) -> None:
        super().__init__(config)
        self.config: BPRConfig
        self._v32 = np.zeros((0, 0), np.float32)  # float32 copies for the fold-in
        self._b32 = np.zeros(0, np.float32)

    def _implicit_model(self, options: TrainingOptions) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        cfg = self.config
        return BayesianPersonalizedRanking(
            factors=cfg.factors,
            learning_rate=cfg.learning_rate,
            regularization=cfg.regularization,
            iterations=cfg.iterations,
            num_threads=options.threads,
            random_state=options.seed,
        )

    def _prepare(self, factors: np.ndarray) -> None:
        self._v32 = np.ascontiguousarray(factors[:, :-1], dtype=np.float32)
        self._b32 = np.ascontiguousarray(factors[:, -1], dtype=np.float32)

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

    def item_scores(self, users: np.ndarray) -> np.ndarray:
        """Item factors times one ``(k,)`` or several ``(users, k)`` user vectors, plus the
        item bias (float64)."""
        _, factors, _ = self._fitted()
        return (factors[:, :-1] @ users.T).T + factors[:, -1]
