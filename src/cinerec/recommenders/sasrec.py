"""SASRec (Kang & McAuley 2018) trained with full-softmax cross-entropy, on the CPU.

A causal transformer reads a user's movies in time order and scores every movie as the next
one. Training follows the "SASRec with cross-entropy" recipe (Klenitskiy & Vasilev 2023,
"Turning Dross Into Gold Loss: is BERT4Rec really better than SASRec?"): every position
predicts the next item with a softmax over the whole catalog instead of one sampled negative,
which is what makes SASRec competitive on MovieLens. Histories longer than ``max_len`` are
cut into windows ``window_stride`` items apart.

Any history is folded in at recommend time by running the network over its last
``max_len`` known movies; ratings are ignored (each rating is an interaction). An empty or
all-unknown history falls back to the popularity order saved with the model.

Example:
    >>> model = SASRecRecommender(SASRecConfig(epochs=40))  # doctest: +SKIP
    >>> model.fit(interactions, TrainingOptions(seed=1, threads=2))  # doctest: +SKIP
    >>> model.recommend([Rated(1), Rated(260), Rated(1196)], n=10)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Self

import numpy as np
from tqdm import tqdm

from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders._common import (
    blocked_indices,
    check_n,
    read_model,
    require_torch,
    top_n,
    write_model,
)
from cinerec.recommenders.base import ScoreMatrix, TrainingOptions
from cinerec.recommenders.popularity import popularity_scores

log = logging.getLogger(__name__)

LR_SCHEDULES = ("constant", "cosine")
EpochMonitor = Callable[[int, "SASRecRecommender"], bool]
"""Called after each epoch with (epochs done, the usable model); returning True stops training."""


@dataclass(frozen=True, slots=True)
class SequenceConfig:
    """The hyperparameters SASRec and BERT4Rec share, and their checks (see
    :class:`SASRecConfig` for what each means).

    A subclass sets ``min_len`` (and ``min_len_why``, said after it) and adds the checks of its
    own fields in :meth:`_own_problems`.
    """

    max_len: int = 100
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    dropout: float = 0.2
    attention_dropout: float = 0.2
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 5e-3
    weight_decay: float = 0.0
    window_stride: int = 100
    length_buckets: bool = True

    min_len: ClassVar[int] = 1
    min_len_why: ClassVar[str] = ""

    def _own_problems(self) -> list[str]:
        return []

    def __post_init__(self) -> None:
        problems = []
        if self.max_len < self.min_len:
            problems.append(
                f"max_len must be >= {self.min_len}{self.min_len_why} (got {self.max_len})"
            )
        for name in ("hidden", "layers", "heads", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.hidden % max(self.heads, 1):
            problems.append(f"heads ({self.heads}) must divide hidden ({self.hidden})")
        for name in ("dropout", "attention_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                problems.append(f"{name} must lie in [0, 1) (got {getattr(self, name)})")
        problems.extend(self._own_problems())
        if self.learning_rate <= 0 or self.weight_decay < 0 or self.window_stride < 1:
            problems.append("learning_rate > 0, weight_decay >= 0 and window_stride >= 1 needed")
        if problems:
            raise ConfigError(f"Invalid {type(self).__name__}: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class SASRecConfig(SequenceConfig):
    """Hyperparameters of :class:`SASRecRecommender`.

    Defaults chosen on the leave-one-out validation items of ml-latest-small: with
    max_len 100, learning rate 5e-3 reached validation NDCG@10 0.041 after 5 epochs and
    0.065 after 10, against 0.025 and 0.041 at 2e-3. With these defaults (20 epochs):
    validation NDCG@10 0.076, test 0.062, about 190 s of training on 2 shared cores. More
    epochs, sizes and dropout were not explored.

    Attributes:
        max_len: most recent items the network reads.
        hidden: embedding and hidden size.
        layers: transformer blocks.
        heads: attention heads (must divide ``hidden``).
        dropout: dropout on embeddings, residual and feed-forward layers.
        attention_dropout: dropout on the attention weights (about 15 % of an epoch's CPU
            time at 0.2; without it validation NDCG@10 peaked lower and earlier).
        epochs: passes over the training windows.
        batch_size: windows per optimiser step.
        learning_rate: Adam learning rate (the peak, with ``lr_schedule="cosine"``).
        lr_schedule: ``constant``, or ``cosine``: decay to 0 over ``epochs`` (per step).
        weight_decay: AdamW weight decay.
        window_stride: distance between the ends of two training windows of a long history.
        length_buckets: batch windows of similar length and trim their padding (faster; see
            :func:`cinerec.recommenders._sasrec_net.train_epoch`).
    """

    lr_schedule: str = "constant"

    def _own_problems(self) -> list[str]:
        if self.lr_schedule not in LR_SCHEDULES:
            return [f"lr_schedule must be one of {LR_SCHEDULES} (got {self.lr_schedule!r})"]
        return []


def _torch() -> ModuleType:
    return require_torch("SASRec")


def _sequences(interactions: Interactions) -> list[np.ndarray]:
    """Each user's item tokens (vocabulary index + 1) in time order."""
    frame = interactions.frame.sort_values(["user_id", "timestamp"], kind="stable")
    tokens = interactions.items.indices(frame["item_id"].to_numpy(), skip_unknown=False) + 1
    bounds = np.flatnonzero(np.diff(frame["user_id"].to_numpy())) + 1
    return [s for s in np.split(tokens, bounds) if len(s)]


class SASRecRecommender:
    """Sequential candidate generator: next-movie prediction with a causal transformer."""

    name = "sasrec"
    label = "SASRec"  # in messages
    config_type: type[Any] = SASRecConfig

    def __init__(self, config: Any = None) -> None:
        self.config = config or self.config_type()
        self._items: Vocabulary | None = None
        self._net: object | None = None  # SASRecNet; typed loosely so torch loads lazily
        self._popularity: np.ndarray | None = None
        self.losses: list[float] = []
        self.epoch_seconds: list[float] = []

    def _net_class(self) -> type[Any]:
        from cinerec.recommenders._sasrec_net import SASRecNet

        return SASRecNet

    def _training_rows(
        self, interactions: Interactions
    ) -> tuple[int, Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]]:
        """How many training rows there are, and a function giving an epoch's (inputs, labels)
        (the same next-item windows every epoch here; BERT4Rec draws fresh masks)."""
        from cinerec.recommenders._sasrec_net import training_windows

        c = self.config
        inputs, targets = training_windows(
            _sequences(interactions), max_len=c.max_len, stride=c.window_stride
        )
        return len(inputs), lambda generator: (inputs, targets)

    def _make_net(self, n_items: int) -> object:
        _torch()
        c = self.config
        return self._net_class()(
            n_items,
            max_len=c.max_len,
            hidden=c.hidden,
            layers=c.layers,
            heads=c.heads,
            dropout=c.dropout,
            attention_dropout=c.attention_dropout,
        )

    def fit(
        self,
        interactions: Interactions,
        options: TrainingOptions,
        *,
        monitor: EpochMonitor | None = None,
    ) -> None:
        """Train for ``config.epochs`` epochs with ``options.threads`` torch threads.

        Args:
            interactions: every rating is one interaction, ordered by timestamp per user.
            options: seed, threads, progress (a tqdm bar over the epochs) and a cancel token,
                checked before each epoch (raises Cancelled once it is cancelled).
            monitor: optional hook after each epoch, given the model ready to score (e.g.
                validation NDCG for early stopping while tuning); True stops training there.
        """
        torch = _torch()
        from cinerec.recommenders._sasrec_net import train_epoch

        c = self.config
        n_rows, epoch_rows = self._training_rows(interactions)
        if n_rows == 0:
            raise ModelError(f"Cannot train {self.label}: no user has two or more interactions")
        torch.set_num_threads(max(options.threads, 1))
        torch.manual_seed(options.seed)
        generator = np.random.default_rng(options.seed)
        net = self._make_net(len(interactions.items))
        optimizer = torch.optim.AdamW(
            net.parameters(),  # type: ignore[attr-defined]
            lr=c.learning_rate,
            weight_decay=c.weight_decay,
        )
        scheduler = None
        if getattr(c, "lr_schedule", "constant") == "cosine":
            total = c.epochs * -(-n_rows // c.batch_size)
            scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
            )
        self.losses, self.epoch_seconds = [], []
        popularity = popularity_scores(interactions.frame, interactions.items)
        bar = tqdm(total=c.epochs, desc=self.name, unit="epoch", disable=not options.progress)
        with bar:
            for epoch in range(c.epochs):
                if options.cancel is not None:
                    options.cancel.check(f"Training {self.name}")
                started = time.perf_counter()
                inputs, targets = epoch_rows(generator)
                loss = train_epoch(
                    net,  # type: ignore[arg-type]
                    optimizer,
                    inputs,
                    targets,
                    batch_size=c.batch_size,
                    generator=generator,
                    bucket=c.length_buckets,
                    scheduler=scheduler,
                )
                self.losses.append(loss)
                self.epoch_seconds.append(time.perf_counter() - started)
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}")
                if monitor is None:
                    continue
                net.eval()  # type: ignore[attr-defined]
                self._items, self._net, self._popularity = interactions.items, net, popularity
                if monitor(epoch + 1, self):
                    break
        net.eval()  # type: ignore[attr-defined]
        self._items, self._net, self._popularity = interactions.items, net, popularity

    def _fitted(self) -> tuple[Vocabulary, object, np.ndarray]:
        if self._items is None or self._net is None or self._popularity is None:
            raise ModelError(f"The {self.label} model is not trained; call fit() or load one")
        return self._items, self._net, self._popularity

    def _tokens(self, histories: Sequence[Sequence[Rated]]) -> np.ndarray:
        """Rows of left-padded tokens: the last ``max_len`` known movies of each history, in
        order; a history with no known movie gets an all-padding row."""
        items, _, _ = self._fitted()
        max_len = self.config.max_len
        tokens = np.zeros((len(histories), max_len), dtype=np.int64)
        for row, history in enumerate(histories):
            tail = [items.index(r.movie_id) + 1 for r in history if r.movie_id in items]
            tail = tail[-max_len:]
            if tail:
                tokens[row, max_len - len(tail) :] = tail
        return tokens

    def _logits(self, tokens: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """The network's scores of every known item at the last position of each token row."""
        import torch

        items, net, _ = self._fitted()
        out = np.empty((len(tokens), len(items)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(tokens), batch_size):
                chunk = torch.from_numpy(tokens[start : start + batch_size])
                hidden = net(chunk)[:, -1]  # type: ignore[operator]
                out[start : start + batch_size] = net.logits(hidden).numpy()  # type: ignore[attr-defined]
        return out

    def scores(self, history: Sequence[Rated]) -> np.ndarray | None:
        """Next-item scores for every known item, or None when no history item is known."""
        tokens = self._tokens([history])
        if not tokens.any():
            return None
        return self._logits(tokens)[0].astype(np.float64)

    def batch_scores(
        self, histories: Sequence[Sequence[Rated]], *, batch_size: int = 256
    ) -> np.ndarray:
        """Next-item scores of many histories at once: (histories, known items), float32.

        Row ``k`` equals :meth:`scores` of ``histories[k]`` (up to float rounding), or the
        popularity scores when none of its movies is known. Much faster than one call per
        history when ranking a whole validation split.
        """
        _, _, popularity = self._fitted()
        tokens = self._tokens(histories)
        out = self._logits(tokens, batch_size)
        out[~tokens.any(axis=1)] = popularity.astype(np.float32)
        return out

    def score_batch(self, histories: Sequence[Sequence[Rated]]) -> ScoreMatrix:
        """:meth:`batch_scores` with the item vocabulary (the harness's batched path)."""
        items, _, _ = self._fitted()
        return ScoreMatrix(items, self.batch_scores(histories))

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """Top ``n`` next movies for a history in time order; popularity if none is known."""
        check_n(n)
        items, _, popularity = self._fitted()
        scores = self.scores(history)
        if scores is None:
            scores = popularity
        return top_n(scores, items, n, blocked_indices(history, exclude, items))

    def save(self, path: Path) -> None:
        """Write item ids, the network's weights and the popularity fallback into ``path``."""
        items, net, popularity = self._fitted()
        weights = {
            f"net.{k}": v.detach().numpy()
            for k, v in net.state_dict().items()  # type: ignore[attr-defined]
        }
        write_model(
            path,
            name=self.name,
            config=asdict(self.config),
            item_ids=items.ids,
            popularity=popularity,
            **weights,
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`; :class:`ModelError` if missing or corrupt."""
        torch = _torch()
        config, arrays = read_model(path, name=cls.name)
        try:
            model = cls(cls.config_type(**config))
            ids, popularity = arrays["item_ids"], arrays["popularity"].astype(np.float64)
            net = model._make_net(len(ids))
            state = {k[4:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("net.")}
            net.load_state_dict(state)  # type: ignore[attr-defined]
        except (TypeError, KeyError, ConfigError, RuntimeError) as exc:
            raise ModelError(
                f"The {cls.label} model at {path} is incomplete ({exc}); retrain it"
            ) from exc
        net.eval()  # type: ignore[attr-defined]
        model._items, model._net, model._popularity = Vocabulary(ids.tolist()), net, popularity
        return model
