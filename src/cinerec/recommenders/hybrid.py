"""A LightFM-style hybrid (Kula 2015) in PyTorch: users and items as sums of feature embeddings.

The original LightFM (a C extension) no longer builds on current setuptools, so this module
re-implements its model on the CPU with PyTorch (the maintained fork ``lightfm-next`` does
build, and ``benchmarks/peers.py`` runs it beside this model as a peer):

* an item is the sum of the embeddings of its features - its id and, when given, its genres -
  plus an item bias;
* a user is the sum of the embeddings of their features (age bucket, gender, occupation, any
  ``key=value`` token) plus the *mean of the embeddings of the items in their history*, taken
  from a second, history-side item table (asymmetric SVD, Koren 2008). This history mean
  stands in for LightFM's per-user id feature: cinerec's :class:`Recommender` protocol folds
  every user in from their history at recommend time and never sees a training user id, so
  the model is trained exactly the way it is asked. A user with features and no known movie
  is still personalised; one with neither gets the item biases (roughly a popularity order);
* a score is the dot product of the two plus the item bias.

Training uses LightFM's WARP loss in a batched form: for each (user, positive item) pair,
``max_sampled`` uniform negatives are scored at once and the *first* one that violates the
margin counts, with a rank-weighted hinge ``log(floor((items - 1) / trials)) * (margin - pos +
neg)``, as in LightFM's sequential sampling loop; pairs with no violator add no loss.
Scoring all ``max_sampled`` negatives at once keeps WARP fast on the CPU (2-5 s per epoch of
ml-100k on one thread, 6 s on ml-latest-small), so a BPR fallback was not needed. The history
of each training pair is a random subset of the user's other items (never the positive), its
length log-uniform in 0..``max_history``, so the model learns to rank from 1 item as well as
from 50; with probability ``feature_dropout`` the user's features are left out, so plain
``recommend`` (no features) sees what it was trained on.

Scoring needs only numpy: :meth:`HybridRecommender.save` writes the final item vectors, the
history-side table and the feature embeddings, and :meth:`HybridRecommender.load` reads them
without PyTorch. Training needs the optional ``sequential`` extra (torch).

Example:
    >>> model = HybridRecommender(HybridConfig(epochs=20))  # doctest: +SKIP
    >>> model.fit_features({1: {"age": 25, "gender": "F"}}, {10: ("Comedy",)})  # doctest: +SKIP
    >>> model.fit(interactions, TrainingOptions(seed=1, threads=1))  # doctest: +SKIP
    >>> model.recommend_for([], n=10, features={"age": 31, "gender": "M"})  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Self

import numpy as np
from tqdm import tqdm

from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders._common import (
    blocked_indices,
    check_n,
    history_ratings,
    read_model,
    require_torch,
    top_n,
    write_model,
)
from cinerec.recommenders.base import ItemFeatures, TrainingOptions, UserFeatures

log = logging.getLogger(__name__)

AGE_BUCKETS = ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (50, "45-49"),
               (56, "50-55"))  # fmt: skip
"""Upper bounds (exclusive) and labels of the age buckets of MovieLens-1M's README; 56+ last."""


@dataclass(frozen=True, slots=True)
class HybridConfig:
    """Hyperparameters of :class:`HybridRecommender`.

    Defaults chosen on a validation split carved out of protocol 3's *training* users (20 %
    of them held out, seed 1, 3 known items; the test users were never used), tuning only
    the learning rate, ``max_history`` and ``regularization`` at 10 epochs: NDCG@10 0.365 at
    learning rate 3e-3 and 0.456 at 1e-3 (popularity: 0.470); ``max_history`` 5 or
    regularization 1e-2 changed it by less than 0.005 at 1e-3; 20 epochs gave 0.425. Without
    user features: 0.347 (at 3e-3, against 0.365 with them). For warm users with long
    histories (protocol 2) more training pays: on a split of ``ua.base`` (last 20 % of the
    positives of 20 % of the users) precision@10 was 0.052 with these defaults, 0.075 with
    learning rate 3e-3 and 30 epochs (50 epochs: 0.072; EASE 0.080). Training takes about
    50 s on ml-100k with the defaults and 190 s on ml-latest-small with 30 epochs (1 thread).

    Attributes:
        dim: embedding size.
        epochs: passes over the training interactions.
        batch_size: (user, positive item) pairs per Adam step.
        learning_rate: Adam learning rate.
        regularization: L2 penalty on the embeddings and biases a batch touches (per pair).
        max_sampled: negatives scored per positive; the first violator counts (WARP).
        margin: the hinge margin of WARP.
        max_history: most history items averaged into a training user.
        feature_dropout: share of training pairs that drop the user's features.
        item_genres: add the embeddings of each item's features (genres) to the item.
        user_features: use the users' features (when :meth:`HybridRecommender.fit_features`
            gave any).
        min_rating: ignore ratings below this (None: every rating is a positive).
    """

    dim: int = 64
    epochs: int = 10
    batch_size: int = 1024
    learning_rate: float = 0.001
    regularization: float = 1e-4
    max_sampled: int = 32
    margin: float = 1.0
    max_history: int = 50
    feature_dropout: float = 0.2
    item_genres: bool = True
    user_features: bool = True
    min_rating: float | None = None

    def __post_init__(self) -> None:
        problems = []
        for name in ("dim", "epochs", "batch_size", "max_sampled", "max_history"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.learning_rate <= 0 or self.regularization < 0 or self.margin <= 0:
            problems.append("learning_rate > 0, regularization >= 0 and margin > 0 needed")
        if not 0.0 <= self.feature_dropout <= 1.0:
            problems.append(f"feature_dropout must lie in [0, 1] (got {self.feature_dropout})")
        if problems:
            raise ConfigError("Invalid HybridConfig: " + "; ".join(problems))


def _torch() -> ModuleType:
    return require_torch("Training the hybrid model")


def age_bucket(age: float) -> str:
    """MovieLens-1M's age group of an age in years: ``"<18"``, ``"18-24"``, ... ``"56+"``."""
    for bound, label in AGE_BUCKETS:
        if age < bound:
            return label
    return "56+"


def user_tokens(features: Mapping[str, Any] | None) -> list[str]:
    """``key=value`` tokens of a user's features; a numeric ``age`` becomes its bucket.

    Example:
        >>> user_tokens({"age": 29, "gender": "F", "occupation": "writer", "zip": None})
        ['age=25-34', 'gender=F', 'occupation=writer']
    """
    out = []
    for key, value in sorted((features or {}).items()):
        if value is None or value == "":
            continue
        if key == "age" and isinstance(value, int | float) and not isinstance(value, bool):
            value = age_bucket(float(value))
        out.append(f"{key}={value}")
    return out


def _warp_loss(
    user: Any,
    item_vectors: Any,
    item_bias: Any,
    positives: Any,
    negatives: Any,
    margin: float,
    rank_weight: Any,
) -> Any:
    """Batched WARP: the first sampled negative within ``margin`` of the positive counts,
    weighted by ``rank_weight[trials - 1]``; pairs without a violator add nothing."""
    import torch

    pos_score = (user * item_vectors[positives]).sum(-1) + item_bias[positives]
    neg_score = torch.einsum("bd,bkd->bk", user, item_vectors[negatives]) + item_bias[negatives]
    hinge = margin - pos_score.unsqueeze(1) + neg_score
    with torch.no_grad():
        violated = hinge > 0
        first = violated.to(torch.int8).argmax(1)
        weight = rank_weight[first] * violated.any(1)
    chosen = hinge.gather(1, first.unsqueeze(1)).squeeze(1)
    return (weight * chosen.clamp(min=0)).mean()


def _multi_hot(rows: Sequence[Sequence[str]], vocabulary: Mapping[str, int]) -> np.ndarray:
    """rows x vocabulary 0/1 matrix (float32); tokens outside the vocabulary are dropped."""
    out = np.zeros((len(rows), len(vocabulary)), dtype=np.float32)
    for row, tokens in enumerate(rows):
        for token in tokens:
            if token in vocabulary:
                out[row, vocabulary[token]] = 1.0
    return out


@dataclass(frozen=True)
class _State:
    """Everything scoring needs, as numpy arrays (what :meth:`save` writes)."""

    items: Vocabulary
    item_vectors: np.ndarray  # items x dim: id embedding + genre embeddings
    item_bias: np.ndarray  # items
    history_vectors: np.ndarray  # items x dim: the history-side table
    tokens: tuple[str, ...]  # user feature tokens, in row order of token_vectors
    token_vectors: np.ndarray  # tokens x dim

    def __post_init__(self) -> None:
        n, dim = len(self.items), self.history_vectors.shape[-1]
        if (
            self.item_vectors.shape != (n, dim)
            or self.item_bias.shape != (n,)
            or self.history_vectors.shape != (n, dim)
            or self.token_vectors.shape != (len(self.tokens), dim)
        ):
            raise ModelError("The hybrid model's arrays do not fit together; retrain the model")


class HybridRecommender:
    """LightFM-style hybrid: feature embeddings + history fold-in, trained with WARP."""

    name = "hybrid"

    def __init__(self, config: HybridConfig | None = None) -> None:
        self.config = config or HybridConfig()
        self._user_features: UserFeatures = {}
        self._item_features: ItemFeatures = {}
        self._state: _State | None = None
        self._token_index: dict[str, int] = {}
        self.losses: list[float] = []
        self.epoch_seconds: list[float] = []

    def fit_features(self, user_features: UserFeatures, item_features: ItemFeatures) -> None:
        """Side information for the next :meth:`fit`: training users' features, item genres."""
        self._user_features = dict(user_features)
        self._item_features = dict(item_features)

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Train with batched WARP for ``config.epochs`` epochs on ``options.threads`` threads.

        Args:
            interactions: every rating (at or above ``min_rating``) is a positive.
            options: seed (torch and the samplers), threads, and a tqdm bar over the epochs.
        """
        torch = _torch()
        c = self.config
        x = interactions.to_csr(binary=True, min_rating=c.min_rating)
        if x.nnz == 0:
            raise ModelError("Cannot train the hybrid model on zero interactions")
        items, users = interactions.items, interactions.users
        n_items = len(items)
        genre_rows = [
            self._item_features.get(int(i), ()) if c.item_genres else () for i in items.ids
        ]
        genres = sorted({g for row in genre_rows for g in row})
        genre_matrix = torch.from_numpy(
            _multi_hot(genre_rows, {g: k for k, g in enumerate(genres)})
        )
        token_rows = [
            user_tokens(self._user_features.get(int(u))) if c.user_features else []
            for u in users.ids
        ]
        tokens = sorted({t for row in token_rows for t in row})
        token_index = {t: k for k, t in enumerate(tokens)}
        user_matrix = torch.from_numpy(_multi_hot(token_rows, token_index))

        torch.set_num_threads(max(options.threads, 1))
        torch.manual_seed(options.seed)
        rng = np.random.default_rng(options.seed)
        scale = 0.1 / math.sqrt(c.dim)

        def table(rows: int) -> Any:
            return torch.nn.Parameter(torch.randn(rows, c.dim) * scale)

        item_emb, history_emb = table(n_items), table(n_items)
        genre_emb, token_emb = table(len(genres)), table(len(tokens))
        item_bias = torch.nn.Parameter(torch.zeros(n_items))
        params = [item_emb, history_emb, genre_emb, token_emb, item_bias]
        optimizer = torch.optim.Adam(params, lr=c.learning_rate)

        pair_users = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        pair_items = x.indices.astype(np.int64)
        counts = np.diff(x.indptr)
        # log(floor((items - 1) / trials)) for trials = 1..max_sampled (LightFM's rank estimate)
        trials = np.arange(1, c.max_sampled + 1)
        rank_weight = torch.from_numpy(
            np.log(np.maximum(np.floor((n_items - 1) / trials), 1.0)).astype(np.float32)
        )
        self.losses, self.epoch_seconds = [], []
        bar = tqdm(total=c.epochs, desc="hybrid", unit="epoch", disable=not options.progress)
        with bar:
            for _ in range(c.epochs):
                if options.cancel is not None:
                    options.cancel.check(f"Training {self.name}")
                started = time.perf_counter()
                order = rng.permutation(len(pair_users))
                total = 0.0
                for start in range(0, len(order), c.batch_size):
                    batch = order[start : start + c.batch_size]
                    u, pos = pair_users[batch], pair_items[batch]
                    hist, mask = self._sample_histories(u, pos, x.indptr, x.indices, counts, rng)
                    neg = rng.integers(0, n_items, size=(len(batch), c.max_sampled))
                    keep = torch.from_numpy(rng.random(len(batch)) >= c.feature_dropout)
                    u_t, pos_t, neg_t = (torch.from_numpy(a) for a in (u, pos, neg))
                    hist_t, mask_t = torch.from_numpy(hist), torch.from_numpy(mask)

                    item_vectors = item_emb + genre_matrix @ genre_emb
                    hv = history_emb[hist_t] * mask_t.unsqueeze(-1)
                    hist_mean = hv.sum(1) / mask_t.sum(1, keepdim=True).clamp(min=1.0)
                    feats = (user_matrix[u_t] * keep.unsqueeze(-1)) @ token_emb
                    user = hist_mean + feats
                    loss = _warp_loss(
                        user, item_vectors, item_bias, pos_t, neg_t, c.margin, rank_weight
                    )
                    if c.regularization:
                        touched = (
                            item_emb[pos_t].pow(2).sum()
                            + item_emb[neg_t].pow(2).sum() / c.max_sampled
                            + hv.pow(2).sum() / c.max_history
                            + item_bias[pos_t].pow(2).sum()
                        )
                        loss = loss + c.regularization * touched / len(batch)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(batch)
                self.losses.append(total / len(order))
                self.epoch_seconds.append(time.perf_counter() - started)
                bar.update()
                bar.set_postfix(loss=f"{self.losses[-1]:.4f}")
        with torch.no_grad():
            vectors = (item_emb + genre_matrix @ genre_emb).numpy().astype(np.float32)
            self._set_state(
                _State(
                    items=items,
                    item_vectors=vectors,
                    item_bias=item_bias.detach().numpy().astype(np.float32),
                    history_vectors=history_emb.detach().numpy().astype(np.float32),
                    tokens=tuple(tokens),
                    token_vectors=token_emb.detach().numpy().astype(np.float32),
                )
            )

    def _sample_histories(
        self,
        users: np.ndarray,
        positives: np.ndarray,
        indptr: np.ndarray,
        indices: np.ndarray,
        counts: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per pair, 0 to ``max_history`` of the user's items (with replacement, never the
        positive): item indices (pairs x max_history) and a 0/1 float mask."""
        h = self.config.max_history
        n = counts[users]
        longest = np.minimum(n - 1, h)
        # Log-uniform lengths in [0, longest]: short histories (the cold-start case) are drawn
        # as often as long ones are drawn per factor of length, not per item.
        length = np.floor(np.expm1(rng.random(len(users)) * np.log1p(longest + 0.999)))
        length = np.minimum(length.astype(np.int64), longest)
        slots = np.floor(rng.random((len(users), h)) * n[:, None]).astype(np.int64)
        hist = indices[indptr[users][:, None] + slots].astype(np.int64)
        mask = (np.arange(h)[None, :] < length[:, None]) & (hist != positives[:, None])
        return hist, mask.astype(np.float32)

    def _set_state(self, state: _State) -> None:
        self._state = state
        self._token_index = {t: k for k, t in enumerate(state.tokens)}

    def _fitted(self) -> _State:
        if self._state is None:
            raise ModelError("The hybrid model is not trained; call fit() or load an artifact")
        return self._state

    def user_vector(
        self, history: Sequence[Rated], features: Mapping[str, Any] | None = None
    ) -> np.ndarray:
        """The folded-in user: feature embeddings + mean history-side vector of known items."""
        state = self._fitted()
        vector = np.zeros(state.item_vectors.shape[1], dtype=np.float64)
        rows = [self._token_index[t] for t in user_tokens(features) if t in self._token_index]
        if rows and self.config.user_features:
            vector += state.token_vectors[rows].sum(axis=0, dtype=np.float64)
        known = list(history_ratings(history, state.items))
        if known:
            vector += state.history_vectors[known].mean(axis=0, dtype=np.float64)
        return vector

    def recommend_for(
        self,
        history: Sequence[Rated],
        n: int,
        exclude: Collection[int] = (),
        features: Mapping[str, Any] | None = None,
    ) -> list[ScoredItem]:
        """Top ``n`` items for a user given by their history and (optional) features."""
        check_n(n)
        state = self._fitted()
        user = self.user_vector(history, features)
        scores = state.item_vectors.astype(np.float64) @ user + state.item_bias
        return top_n(scores, state.items, n, blocked_indices(history, exclude, state.items))

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """Top ``n`` items from the history alone; item biases if nothing is known."""
        return self.recommend_for(history, n, exclude)

    def save(self, path: Path) -> None:
        """Write item ids, item and history vectors, biases and feature embeddings."""
        state = self._fitted()
        write_model(
            path,
            name=self.name,
            config=asdict(self.config),
            item_ids=state.items.ids,
            item_vectors=state.item_vectors,
            item_bias=state.item_bias,
            history_vectors=state.history_vectors,
            tokens=np.asarray(state.tokens, dtype=np.str_),
            token_vectors=state.token_vectors,
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save` (numpy only); :class:`ModelError` if broken."""
        config, arrays = read_model(path, name=cls.name)
        try:
            model = cls(HybridConfig(**config))
            dim = model.config.dim
            state = _State(
                items=Vocabulary(arrays["item_ids"].tolist()),
                item_vectors=arrays["item_vectors"].astype(np.float32),
                item_bias=arrays["item_bias"].astype(np.float32),
                history_vectors=arrays["history_vectors"].astype(np.float32),
                tokens=tuple(str(t) for t in arrays["tokens"].tolist()),
                token_vectors=arrays["token_vectors"].astype(np.float32).reshape(-1, dim),
            )
        except (TypeError, KeyError, ValueError, ConfigError) as exc:
            raise ModelError(
                f"The hybrid model at {path} is incomplete ({exc}); retrain it"
            ) from exc
        model._set_state(state)
        return model
