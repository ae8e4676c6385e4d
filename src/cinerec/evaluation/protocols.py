"""The three evaluation protocols, as tasks: training data plus the cases a model is asked.

* ``loo`` - leave-one-out on ml-latest-small preprocessed as LlamaRec did (see
  :func:`cinerec.evaluation.splits.llamarec_leave_one_out`). A model is fitted on the training
  part; it is asked for the validation item with the training history and for the test item
  with training + validation history, ranking every item (no sampled negatives).
* ``ml100k`` - ml-100k ``ua.base`` / ``ua.test`` with ratings >= 4 as the positives, as in
  LightFM's documented example (precision@10, AUC). The history of a user is their training
  positives, which are never recommended again.
* ``newviewer`` - a few ticks and one taste statement per held-out user, user-disjoint, on
  ml-latest-small or ml-100k (see :mod:`cinerec.evaluation.newviewer`).
* ``coldstart`` - ml-100k; 20 % of the users (those with >= 10 ratings) are held out of
  training. Each is asked with only their first ``k`` = 1, 3, 5 ratings (by time) as the
  history; every later rating is a target. Age, gender and occupation travel in
  :attr:`EvalCase.features` for models that can use them.

The ml-100k tasks also carry side information for feature-aware models
(:class:`cinerec.recommenders.base.FeatureAware`): :attr:`EvaluationTask.user_features` holds
the demographics of the *training* users only (a held-out user is described by their case's
features alone) and :attr:`EvaluationTask.item_features` the genres of every catalog movie.

Each task is scored by :func:`cinerec.evaluation.ranking.rank_cases` and
:func:`cinerec.evaluation.ranking.per_user_metrics`, which return per-user
metric arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cinerec.data.fingerprint import fingerprint_interactions
from cinerec.data.movielens import (
    ML_100K,
    ML_LATEST_SMALL,
    load_ml100k_split,
    load_ml100k_users,
    load_movielens_movies,
    load_ratings,
)
from cinerec.data.types import Interactions, Rated, Vocabulary
from cinerec.errors import ConfigError
from cinerec.evaluation.splits import cold_start_split, llamarec_leave_one_out, positive_split

PROTOCOLS = ("loo", "ml100k", "coldstart", "newviewer")
COLD_START_KS = (1, 3, 5)


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One question to a model: a user's history (in time order) and the items to find."""

    user_id: int
    history: tuple[Rated, ...]
    targets: tuple[int, ...]
    features: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationTask:
    """Training data, the cases to score and what is needed to score them.

    Attributes:
        protocol: one of :data:`PROTOCOLS`.
        dataset: the MovieLens data set it was built from.
        train: what models are fitted on.
        validation: cases for tuning (empty when the protocol has none).
        test_sets: named lists of test cases (``{"test": ...}``, or one per ``k`` for cold
            start).
        catalog: every item a model may be asked to rank.
        settings: the protocol's parameters, stored with each result.
        fingerprint: content fingerprint of all interactions the task was built from.
        user_features: training user id -> features (same keys as :attr:`EvalCase.features`);
            empty when the protocol has none.
        item_features: movie id -> genres; empty when the protocol has none.
    """

    protocol: str
    dataset: str
    train: Interactions
    validation: tuple[EvalCase, ...]
    test_sets: Mapping[str, tuple[EvalCase, ...]]
    catalog: Vocabulary
    settings: Mapping[str, Any]
    fingerprint: str
    user_features: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    item_features: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    def item_probability(self) -> np.ndarray:
        """Share of training users who interacted with each catalog item (for novelty)."""
        frame = self.train.frame
        users = max(frame["user_id"].nunique(), 1)
        counts = frame.groupby("item_id")["user_id"].nunique().reindex(self.catalog.ids)
        return counts.fillna(0).to_numpy(np.float64) / users

    def summary(self) -> dict[str, Any]:
        """Sizes of the parts, for the result file."""
        return {
            "train_interactions": len(self.train),
            "train_users": len(self.train.users),
            "train_items": len(self.train.items),
            "catalog_items": len(self.catalog),
            "validation_cases": len(self.validation),
            "test_cases": {name: len(cases) for name, cases in self.test_sets.items()},
            "users_with_features": len(self.user_features),
            "items_with_features": len(self.item_features),
        }


def _histories(frame: pd.DataFrame) -> dict[int, list[Rated]]:
    """Per user, their rows of a time-ordered frame as :class:`Rated`."""
    out: dict[int, list[Rated]] = {}
    users = frame["user_id"].to_numpy()
    items = frame["item_id"].to_numpy()
    ratings = frame["rating"].to_numpy()
    for u, i, r in zip(users, items, ratings, strict=True):
        out.setdefault(int(u), []).append(Rated(int(i), float(r)))
    return out


def user_feature_map(users: pd.DataFrame | None) -> dict[int, dict[str, Any]]:
    """User id -> ``{"age", "gender", "occupation"}`` from :func:`load_ml100k_users`' frame."""
    if users is None:
        return {}
    return {
        int(row.user_id): {
            "age": int(row.age),
            "gender": str(row.gender),
            "occupation": str(row.occupation),
        }
        for row in users.itertuples(index=False)
    }


def item_feature_map(movies: pd.DataFrame | None) -> dict[int, tuple[str, ...]]:
    """Movie id -> genres from :func:`load_movielens_movies`' frame (movies without any too)."""
    if movies is None:
        return {}
    return {
        int(m): tuple(str(g) for g in genres)
        for m, genres in zip(movies["movie_id"], movies["genres"], strict=True)
    }


def _targets(frame: pd.DataFrame) -> dict[int, tuple[int, ...]]:
    return {
        int(u): tuple(int(i) for i in g) for u, g in frame.groupby("user_id", sort=True)["item_id"]
    }


def leave_one_out_task(frame: pd.DataFrame, *, dataset: str = ML_LATEST_SMALL) -> EvaluationTask:
    """Protocol 1 on any ratings frame (``load_ratings(...).frame`` for the real one)."""
    split = llamarec_leave_one_out(frame)
    train_hist = _histories(split.train)
    val_items = dict(zip(split.validation["user_id"], split.validation["item_id"], strict=True))
    val_rows = _histories(split.validation)
    validation, test = [], []
    for user, target in zip(split.test["user_id"], split.test["item_id"], strict=True):
        user = int(user)
        history = train_hist.get(user, [])
        validation.append(EvalCase(user, tuple(history), (int(val_items[user]),)))
        test.append(EvalCase(user, (*history, *val_rows[user]), (int(target),)))
    full = split.full
    return EvaluationTask(
        protocol="loo",
        dataset=dataset,
        train=Interactions(split.train),
        validation=tuple(validation),
        test_sets={"test": tuple(test)},
        catalog=Vocabulary(sorted(full["item_id"].unique())),
        settings={"min_count": 5, "filter": "iterated to a fixed point", "order": "time, item"},
        fingerprint=fingerprint_interactions(Interactions(full)),
    )


def ml100k_task(
    data_dir: Path, *, split: str = "ua", min_rating: float = 4.0, side_features: bool = True
) -> EvaluationTask:
    """Protocol 2: ml-100k ``split`` with ratings >= ``min_rating`` as the positives.

    With ``side_features`` (needs ``u.user`` and ``u.item``), each case carries its user's
    demographics and the task the users' demographics and the movies' genres.
    """
    base, probe = load_ml100k_split(data_dir, split)
    users: dict[int, dict[str, Any]] = {}
    genres: dict[int, tuple[str, ...]] = {}
    if side_features:
        users = user_feature_map(load_ml100k_users(data_dir))
        genres = item_feature_map(load_movielens_movies(data_dir, ML_100K))
    train, test = positive_split(
        base.frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable"),
        probe.frame,
        min_rating=min_rating,
    )
    histories = _histories(train)
    cases = tuple(
        EvalCase(user, tuple(histories.get(user, [])), targets, users.get(user, {}))
        for user, targets in _targets(test).items()
    )
    trained = set(train["user_id"].unique().tolist())
    everything = pd.concat([base.frame, probe.frame])
    return EvaluationTask(
        protocol="ml100k",
        dataset=ML_100K,
        train=Interactions(train),
        validation=(),
        test_sets={"test": cases},
        catalog=Vocabulary(sorted(everything["item_id"].unique())),
        settings={"split": split, "min_rating": min_rating, "exclude_train_positives": True},
        fingerprint=fingerprint_interactions(Interactions(everything)),
        user_features={u: f for u, f in users.items() if u in trained},
        item_features=genres,
    )


def cold_start_task(
    frame: pd.DataFrame,
    users: pd.DataFrame | None = None,
    movies: pd.DataFrame | None = None,
    *,
    ks: tuple[int, ...] = COLD_START_KS,
    holdout_fraction: float = 0.2,
    seed: int = 0,
) -> EvaluationTask:
    """Protocol 3 on a ratings frame.

    ``users`` (:func:`load_ml100k_users`) adds demographic features to each case and, for the
    training users only, to :attr:`EvaluationTask.user_features`; ``movies``
    (:func:`load_movielens_movies`) gives :attr:`EvaluationTask.item_features` (genres).
    """
    split = cold_start_split(
        frame, holdout_fraction=holdout_fraction, min_items=max(ks) + 5, seed=seed
    )
    features = user_feature_map(users)
    trained = set(split.train["user_id"].unique().tolist())
    test_sets: dict[str, tuple[EvalCase, ...]] = {}
    for k in ks:
        cases = []
        for user, (known, rest) in split.known_and_targets(k).items():
            history = tuple(_histories(known).get(user, []))
            targets = tuple(int(i) for i in rest["item_id"])
            cases.append(EvalCase(user, history, targets, features.get(user, {})))
        test_sets[f"k={k}"] = tuple(cases)
    return EvaluationTask(
        protocol="coldstart",
        dataset=ML_100K,
        train=Interactions(split.train),
        validation=(),
        test_sets=test_sets,
        catalog=Vocabulary(sorted(frame["item_id"].unique())),
        settings={"ks": list(ks), "holdout_fraction": holdout_fraction, "seed": seed},
        fingerprint=fingerprint_interactions(Interactions(frame)),
        user_features={u: f for u, f in features.items() if u in trained},
        item_features=item_feature_map(movies),
    )


def build_task(
    protocol: str, data_dir: Path, *, dataset: str | None = None, seed: int = 0
) -> EvaluationTask:
    """The task of ``protocol`` on the real data in ``data_dir``.

    ``dataset`` matters for ``loo`` and ``newviewer`` (default ml-latest-small; ml-100k too);
    ``ml100k`` and ``coldstart`` are defined on ml-100k.

    Raises:
        ConfigError: unknown protocol, or a data set the protocol is not defined on.
    """
    if protocol == "loo":
        return leave_one_out_task(
            load_ratings(data_dir, dataset or ML_LATEST_SMALL).frame,
            dataset=dataset or ML_LATEST_SMALL,
        )
    if protocol == "newviewer":
        from cinerec.data.catalog import load_catalog
        from cinerec.evaluation.newviewer import newviewer_data, newviewer_task

        name = dataset or ML_LATEST_SMALL
        frame = load_ratings(data_dir, name).frame
        return newviewer_task(
            newviewer_data(frame, load_catalog(data_dir, name), dataset=name, seed=seed)
        )
    if dataset not in (None, ML_100K):
        raise ConfigError(f"Protocol {protocol!r} runs on {ML_100K} only; drop --dataset {dataset}")
    if protocol == "ml100k":
        return ml100k_task(data_dir)
    if protocol == "coldstart":
        return cold_start_task(
            load_ratings(data_dir, ML_100K).frame,
            load_ml100k_users(data_dir),
            load_movielens_movies(data_dir, ML_100K),
            seed=seed,
        )
    raise ConfigError(f"Unknown protocol {protocol!r}; choose one of {list(PROTOCOLS)}")
