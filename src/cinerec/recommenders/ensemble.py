"""A weighted blend of other recommenders' scores, the weights fitted on held-out next items.

Every member ranks the whole catalog for a history; its scores are normalised per history
(``zscore``: mean 0 and standard deviation 1 over the candidates; ``rrf``: ``1 / (60 + rank)``)
so that a transformer's logits and EASE's summed weights can be added. The blend's score of an
item is ``sum_m weight_m * normalised_m(item)``.

Weights come from the config (the defaults were fitted on the validation items of the
leave-one-out protocol on ml-latest-small, see ``benchmarks/blend.py`` and
:class:`EnsembleConfig`), or, with
``weights=None``, are fitted during :meth:`EnsembleRecommender.fit` on an internal hold-out: each
user's last interaction is held out, the members are fitted on the rest, the weights are
chosen by coordinate ascent on NDCG@10 of the held-out items, and the members are refitted on
everything (so training costs twice as much). :meth:`EnsembleRecommender.fit_weights` fits them on
any given cases, e.g. a protocol's validation split.

Example:
    >>> model = EnsembleRecommender(EnsembleConfig(members=("ease", "als"), weights=(1.0, 0.5)))
    >>> model.fit(interactions, TrainingOptions())  # doctest: +SKIP
    >>> model.recommend([Rated(1), Rated(260)], n=10)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from tqdm import tqdm

from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.errors import CinerecError, ConfigError, ModelError
from cinerec.evaluation import metrics
from cinerec.recommenders._common import blocked_indices, check_n, read_model, top_n, write_model
from cinerec.recommenders.base import Recommender, TextSource, TrainingOptions, give_texts
from cinerec.recommenders.members import MEMBERS, build

NORMALIZATIONS = ("zscore", "rrf")
WEIGHT_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)
"""Candidate values of a non-anchor weight (the best single member is fixed at 1)."""
MAX_WEIGHT_CASES = 2000
"""At most this many hold-out users (a seeded sample) fit the weights inside ``fit``."""
MIN_GAIN = 1e-3
"""Smallest NDCG@10 gain a weight change must bring while fitting: with 610 users, about one
more user finding the held-out movie in the top 3. Smaller gains were seen to be noise (a
popularity member let in at +0.0008 on validation lost 0.0014 on test)."""
_RRF_K = 60.0
_MEMBERS_DIR = "members"


@dataclass(frozen=True, slots=True)
class EnsembleConfig:
    """Which models are blended, how their scores are normalised, and their weights.

    The defaults are the weights fitted on the validation items of the leave-one-out protocol
    on ml-latest-small (``benchmarks/results/protocols/loo_blend/``): over SASRec, EASE and
    ALS, z-scored, coordinate ascent gave 0.952 / 0.048 / 0.0 (validation NDCG@10 0.0770;
    rrf: 0.0768). ALS got no weight, so it is not a default member. On the test items that
    blend scored NDCG@10 0.0690 against SASRec's 0.0648 (+0.0042 [-0.0031, +0.0119], paired):
    within noise, at three times SASRec's scoring time, so SASRec alone stays the platform's
    default recommender.

    Attributes:
        members: registry names of the blended recommenders (not ``blend``), each once.
        weights: one non-negative weight per member (only their ratios matter), or None to
            fit them on an internal hold-out during ``fit``.
        member_configs: per member name, config values that replace that member's defaults.
        normalization: ``zscore`` or ``rrf`` (see the module docstring).
        min_item_count: items with fewer interactions in the training data are left out
            before the members are fitted (they are never recommended). 3 keeps every item
            of the leave-one-out benchmark and shrinks full ml-latest-small from 9,724 items
            to 4,980, which keeps EASE's items x items matrix and SASRec's softmax small.
    """

    members: tuple[str, ...] = ("sasrec", "ease")
    weights: tuple[float, ...] | None = (0.952, 0.048)
    member_configs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    normalization: str = "zscore"
    min_item_count: int = 3

    def __post_init__(self) -> None:
        # JSON gives lists; keep tuples and plain dicts so configs compare equal after a trip.
        object.__setattr__(self, "members", tuple(str(m) for m in self.members))
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        configs = {str(k): dict(v) for k, v in dict(self.member_configs).items()}
        object.__setattr__(self, "member_configs", configs)
        problems = []
        if not self.members:
            problems.append("name at least one member")
        if len(set(self.members)) != len(self.members):
            problems.append(f"members must differ (got {list(self.members)})")
        for name in self.members:
            if name not in MEMBERS:
                valid = sorted(MEMBERS)
                problems.append(f"unknown member {name!r} (choose from {valid})")
        if self.weights is not None:
            if len(self.weights) != len(self.members):
                problems.append(
                    f"{len(self.weights)} weights for {len(self.members)} members (give one "
                    "weight per member, or weights null to fit them on a hold-out)"
                )
            elif min(self.weights) < 0 or not any(self.weights):
                problems.append(f"weights must be >= 0 and not all 0 (got {self.weights})")
        stray = sorted(set(configs) - set(self.members))
        if stray:
            problems.append(f"member_configs names non-members {stray}")
        if self.normalization not in NORMALIZATIONS:
            problems.append(f"normalization must be one of {NORMALIZATIONS}")
        if self.min_item_count < 1:
            problems.append(f"min_item_count must be >= 1 (got {self.min_item_count})")
        if problems:
            raise ConfigError("Invalid EnsembleConfig: " + "; ".join(problems))


def normalize(scores: np.ndarray, method: str) -> np.ndarray:
    """Per-row normalisation of member scores; ``nan`` (no score) stays ``nan``.

    Args:
        scores: (rows, items) raw scores, ``nan`` where the member gave none.
        method: ``zscore`` or ``rrf``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    out = np.full_like(scores, np.nan)
    for row, values in enumerate(scores):
        given = np.isfinite(values)
        if not given.any():
            continue
        v = values[given]
        if method == "zscore":
            std = v.std()
            out[row, given] = (v - v.mean()) / (std if std > 0 else 1.0)
        else:
            ranks = np.empty(len(v))
            ranks[np.argsort(-v, kind="stable")] = np.arange(len(v))
            out[row, given] = 1.0 / (_RRF_K + ranks)
    return out


def blend_ndcg(
    normalized: np.ndarray, targets: np.ndarray, weights: np.ndarray, *, k: int = 10
) -> float:
    """Mean NDCG@k of blended scores for one-target cases (ranks and NDCG from
    :mod:`cinerec.evaluation.metrics`; ties go to the lower item index).

    Args:
        normalized: (cases, members, items) normalised scores, ``nan`` at blocked items.
        targets: (cases,) item index of each case's target, -1 when it is unknown (scores 0).
        weights: (members,) blend weights.
    """
    blended = np.einsum("cmi,m->ci", np.nan_to_num(normalized, nan=0.0), weights)
    blended[np.isnan(normalized).all(axis=1)] = -np.inf
    if len(targets) == 0:
        return 0.0
    ranks = metrics.target_ranks(blended, targets)[:, None]
    return float(metrics.ndcg_at_k(ranks, np.ones(len(targets), dtype=np.int64), k).mean())


def coordinate_ascent(
    normalized: np.ndarray,
    targets: np.ndarray,
    *,
    grid: Sequence[float] = WEIGHT_GRID,
    rounds: int = 3,
    k: int = 10,
    min_gain: float = MIN_GAIN,
) -> tuple[np.ndarray, float]:
    """Weights maximising :func:`blend_ndcg`: the best single member is fixed at 1, then each
    other weight in turn takes its best ``grid`` value, for up to ``rounds`` sweeps. A change
    must raise NDCG@k by more than ``min_gain``, so that a member is not let in on noise.

    Returns:
        The weights (summing to 1) and the NDCG@k they reach.
    """
    n_members = normalized.shape[1]
    singles = [blend_ndcg(normalized, targets, np.eye(n_members)[m], k=k) for m in range(n_members)]
    anchor = int(np.argmax(singles))
    weights = np.eye(n_members)[anchor]
    best = singles[anchor]
    for _ in range(rounds):
        improved = False
        for m in range(n_members):
            if m == anchor:
                continue
            for value in grid:
                trial = weights.copy()
                trial[m] = value
                score = blend_ndcg(normalized, targets, trial, k=k)
                if score > best + min_gain:
                    best, weights, improved = score, trial, True
        if not improved:
            break
    return weights / weights.sum(), best


def drop_rare_items(interactions: Interactions, min_count: int) -> Interactions:
    """``interactions`` without the items that have fewer than ``min_count`` of them."""
    frame = interactions.frame
    counts = frame.groupby("item_id")["item_id"].transform("size")
    if min_count <= 1 or bool((counts >= min_count).all()):
        return interactions
    kept = frame[counts >= min_count].reset_index(drop=True)
    if kept.empty:
        raise ModelError(
            f"No item has {min_count} or more interactions; lower the blend's min_item_count"
        )
    return Interactions(kept)


def _holdout(interactions: Interactions) -> tuple[Interactions, list[tuple[list[Rated], int]]]:
    """Each user's last interaction (users with 3 or more) held out of the training data."""
    frame = interactions.frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    sizes = frame.groupby("user_id")["item_id"].transform("size").to_numpy()
    last = frame.groupby("user_id").cumcount(ascending=False).to_numpy() == 0
    held = last & (sizes >= 3)
    rest = frame[~held]
    histories: dict[int, list[Rated]] = {}
    for u, i, r in zip(rest["user_id"], rest["item_id"], rest["rating"], strict=True):
        histories.setdefault(int(u), []).append(Rated(int(i), float(r)))
    cases = [
        (histories[int(u)], int(i))
        for u, i in zip(frame.loc[held, "user_id"], frame.loc[held, "item_id"], strict=True)
    ]
    return Interactions(pd.DataFrame(rest).reset_index(drop=True)), cases


class EnsembleRecommender:
    """Weighted sum of per-history normalised member scores."""

    name = "blend"

    def __init__(self, config: EnsembleConfig | None = None) -> None:
        self.config = config or EnsembleConfig()
        self._members: list[Recommender] | None = None
        self._items: Vocabulary | None = None
        self._weights: np.ndarray | None = None
        self.validation_ndcg: float | None = None
        self._texts: TextSource | None = None

    # Members ----------------------------------------------------------------------------------
    def _build_members(self) -> list[Recommender]:
        configs = self.config.member_configs
        members = [build(name, configs.get(name)) for name in self.config.members]
        for member in members:
            give_texts(member, self._texts)
        return members

    def fit_texts(self, texts: TextSource) -> None:
        """Where the items' descriptions come from, passed on to the members that need them."""
        self._texts = texts

    @classmethod
    def from_fitted(
        cls, config: EnsembleConfig, members: Sequence[Recommender], interactions: Interactions
    ) -> Self:
        """A blend of members already fitted on ``interactions`` (e.g. to fit weights once).

        With ``config.weights=None`` the members weigh equally until :meth:`fit_weights`.
        """
        if [m.name for m in members] != list(config.members):
            raise ConfigError(
                f"Members {[m.name for m in members]} do not match the config's "
                f"{list(config.members)}"
            )
        model = cls(config)
        model._set_state(list(members), interactions.items, model._initial_weights())
        return model

    def _initial_weights(self) -> np.ndarray:
        if self.config.weights is None:
            return np.full(len(self.config.members), 1.0 / len(self.config.members))
        w = np.asarray(self.config.weights, dtype=np.float64)
        return w / w.sum()

    def _set_state(
        self, members: list[Recommender], items: Vocabulary, weights: np.ndarray
    ) -> None:
        if len(members) != len(self.config.members) or weights.shape != (len(members),):
            raise ModelError(
                f"The blend has {len(members)} members and {weights.shape} weights for "
                f"{len(self.config.members)} configured members; retrain it"
            )
        self._members, self._items, self._weights = members, items, weights

    def _fitted(self) -> tuple[list[Recommender], Vocabulary, np.ndarray]:
        if self._members is None or self._items is None or self._weights is None:
            raise ModelError("The blend model is not trained; call fit() or load an artifact")
        return self._members, self._items, self._weights

    @property
    def weights(self) -> dict[str, float]:
        """Member name -> weight in use (summing to 1)."""
        members, _, weights = self._fitted()
        return {m.name: float(w) for m, w in zip(members, weights, strict=True)}

    # Training ---------------------------------------------------------------------------------
    def _fit_members(self, interactions: Interactions, options: TrainingOptions) -> None:
        members = self._build_members()
        bar = tqdm(members, desc="blend", unit="model", disable=not options.progress)
        for member in bar:
            bar.set_postfix_str(member.name)
            member.fit(interactions, options)
        self._set_state(members, interactions.items, self._initial_weights())

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Fit every member on ``interactions`` (rare items dropped first); with
        ``weights=None``, fit the weights first on an internal hold-out of each user's last
        interaction (members trained twice)."""
        if len(interactions) == 0:
            raise ModelError("Cannot train the blend on zero interactions; load ratings first")
        interactions = drop_rare_items(interactions, self.config.min_item_count)
        learned: np.ndarray | None = None
        if self.config.weights is None and len(self.config.members) > 1:
            reduced, cases = _holdout(interactions)
            if len(cases) > MAX_WEIGHT_CASES:
                rng = np.random.default_rng(options.seed)
                keep = np.sort(rng.choice(len(cases), MAX_WEIGHT_CASES, replace=False))
                cases = [cases[i] for i in keep]
            if cases:
                self._fit_members(reduced, options)
                learned = self.fit_weights(cases)
        self._fit_members(interactions, options)
        if learned is not None:
            self._weights = learned

    def member_matrix(
        self,
        history: Sequence[Rated],
        exclude: Collection[int] = (),
        *,
        skip: Collection[int] = (),
    ) -> np.ndarray:
        """(members, items) normalised scores of one history; ``nan`` at blocked items.

        Every member ranks the whole catalog through its public ``recommend``; an item a
        member does not return (but that is not blocked) gets that member's lowest score.
        Members at the positions in ``skip`` are not asked (their row is 0).
        """
        members, items, _ = self._fitted()
        blocked = blocked_indices(history, exclude, items)
        raw = np.full((len(members), len(items)), np.nan)
        for row, member in enumerate(members):
            if row in skip:
                continue
            recs = member.recommend(history, n=len(items), exclude=exclude)
            ids = [r.movie_id for r in recs if r.movie_id in items]
            raw[row, items.indices(ids)] = [r.score for r in recs if r.movie_id in items]
        out = normalize(raw, self.config.normalization)
        for row in out:
            given = np.isfinite(row)
            row[~given] = row[given].min() if given.any() else 0.0
        out[:, blocked] = np.nan
        return out

    def fit_weights(
        self,
        cases: Sequence[tuple[Sequence[Rated], int]],
        *,
        grid: Sequence[float] = WEIGHT_GRID,
        progress: bool = False,
    ) -> np.ndarray:
        """Choose the weights by coordinate ascent on NDCG@10 of ``cases`` and use them.

        Args:
            cases: (history in time order, the next item) pairs the members were not
                trained on, e.g. a validation split.
            grid: candidate values of each non-anchor weight.
            progress: show a bar while the members score the cases.

        Returns:
            The weights (summing to 1); :attr:`validation_ndcg` holds the NDCG@10 reached.
        """
        members, items, _ = self._fitted()
        if not cases:
            raise ModelError("fit_weights needs at least one (history, next item) case")
        normalized = np.empty((len(cases), len(members), len(items)), dtype=np.float32)
        targets = np.full(len(cases), -1, dtype=np.int64)
        bar = tqdm(cases, desc="blend weights", disable=not progress)
        for row, (history, target) in enumerate(bar):
            normalized[row] = self.member_matrix(history)
            if target in items:
                targets[row] = items.index(target)
        weights, self.validation_ndcg = coordinate_ascent(normalized, targets, grid=grid)
        self._weights = weights
        return weights

    # Serving ----------------------------------------------------------------------------------
    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """Top ``n`` items by the weighted sum of the members' normalised scores."""
        check_n(n)
        _, items, weights = self._fitted()
        unused = np.flatnonzero(weights == 0).tolist()
        matrix = self.member_matrix(history, exclude, skip=unused)
        scores = np.einsum("mi,m->i", np.nan_to_num(matrix, nan=0.0), weights)
        return top_n(scores, items, n, blocked_indices(history, exclude, items))

    def save(self, path: Path) -> None:
        """Write the config, item ids and weights, and each member under ``members/``."""
        members, items, weights = self._fitted()
        write_model(
            path, name=self.name, config=asdict(self.config), item_ids=items.ids, weights=weights
        )
        for k, member in enumerate(members):
            member.save(path / _MEMBERS_DIR / f"{k}-{member.name}")

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a blend written by :meth:`save`; :class:`ModelError` if missing or corrupt."""
        config, arrays = read_model(path, name=cls.name)
        try:
            model = cls(EnsembleConfig(**config))
            ids, weights = arrays["item_ids"], arrays["weights"].astype(np.float64)
        except (TypeError, KeyError, CinerecError) as exc:
            raise ModelError(
                f"The blend model at {path} is incomplete ({exc}); retrain it"
            ) from exc
        members = [
            MEMBERS[name][1].load(path / _MEMBERS_DIR / f"{k}-{name}")
            for k, name in enumerate(model.config.members)
        ]
        model._set_state(members, Vocabulary(ids.tolist()), weights)
        return model
