"""BERT4Rec (Sun et al. 2019): a bidirectional transformer trained on masked items, on the CPU.

Each epoch hides a random share (``mask_prob``) of the movies in every training window behind
a ``[MASK]`` token, and the network predicts each hidden movie from the ones before and after
it, with a softmax over the whole catalog (the cloze task). To recommend, a ``[MASK]`` is
appended to the history and the scores of that position rank the catalog. The network, its
blocks and the training step are SASRec's (:mod:`cinerec.recommenders._sasrec_net`) with the
attention made bidirectional.

Any history is folded in at recommend time, as with SASRec: its last ``max_len - 1`` known
movies, in order, then the mask; ratings are ignored. An empty or all-unknown history falls
back to the popularity order saved with the model.

Example:
    >>> model = BERT4RecRecommender(BERT4RecConfig(epochs=40))  # doctest: +SKIP
    >>> model.fit(interactions, TrainingOptions(seed=1, threads=1))  # doctest: +SKIP
    >>> model.recommend([Rated(1), Rated(260), Rated(1196)], n=10)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Self

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
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.popularity import popularity_scores
from cinerec.recommenders.sasrec import _sequences

log = logging.getLogger(__name__)

EpochMonitor = Callable[[int, "BERT4RecRecommender"], bool]
"""Called after each epoch with (epochs done, the usable model); returning True stops training."""


@dataclass(frozen=True, slots=True)
class BERT4RecConfig:
    """Hyperparameters of :class:`BERT4RecRecommender`.

    Sizes, dropout and learning rate are SASRec's defaults and ``mask_prob`` the paper's 0.2.
    On the leave-one-out split of ml-latest-small these reach validation NDCG@10 0.023 after
    30 epochs (92 s), barely above popularity (0.019), while SASRec reaches 0.077: the cloze
    task gives a label at a fifth of the positions and trains far more slowly (tuning trials
    in ``benchmarks/results/protocols/bert4rec_tuning/``). It is not a default.

    Attributes:
        max_len: most recent items the network reads, the [MASK] included (at least 2).
        hidden: embedding and hidden size.
        layers: transformer blocks.
        heads: attention heads (must divide ``hidden``).
        dropout: dropout on embeddings, residual and feed-forward layers.
        attention_dropout: dropout on the attention weights.
        mask_prob: share of the items of a training window hidden behind [MASK] each epoch.
        epochs: passes over the training windows (each with a fresh draw of masks).
        batch_size: windows per optimiser step.
        learning_rate: Adam learning rate.
        weight_decay: AdamW weight decay.
        window_stride: distance between the ends of two training windows of a long history.
        length_buckets: batch windows of similar length and trim their padding (faster).
    """

    max_len: int = 100
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    dropout: float = 0.2
    attention_dropout: float = 0.2
    mask_prob: float = 0.2
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 5e-3
    weight_decay: float = 0.0
    window_stride: int = 100
    length_buckets: bool = True

    def __post_init__(self) -> None:
        problems = []
        for name in ("hidden", "layers", "heads", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.max_len < 2:
            problems.append(f"max_len must be >= 2: history and [MASK] (got {self.max_len})")
        if self.hidden % max(self.heads, 1):
            problems.append(f"heads ({self.heads}) must divide hidden ({self.hidden})")
        for name in ("dropout", "attention_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                problems.append(f"{name} must lie in [0, 1) (got {getattr(self, name)})")
        if not 0.0 < self.mask_prob < 1.0:
            problems.append(f"mask_prob must lie in (0, 1) (got {self.mask_prob})")
        if self.learning_rate <= 0 or self.weight_decay < 0 or self.window_stride < 1:
            problems.append("learning_rate > 0, weight_decay >= 0 and window_stride >= 1 needed")
        if problems:
            raise ConfigError("Invalid BERT4RecConfig: " + "; ".join(problems))


def _torch() -> ModuleType:
    return require_torch("BERT4Rec")


class BERT4RecRecommender:
    """Sequential candidates: the masked next movie, read by a bidirectional transformer."""

    name = "bert4rec"

    def __init__(self, config: BERT4RecConfig | None = None) -> None:
        self.config = config or BERT4RecConfig()
        self._items: Vocabulary | None = None
        self._net: object | None = None  # BERT4RecNet; typed loosely so torch loads lazily
        self._popularity: np.ndarray | None = None
        self.losses: list[float] = []
        self.epoch_seconds: list[float] = []

    def _make_net(self, n_items: int) -> object:
        _torch()
        from cinerec.recommenders._bert4rec_net import BERT4RecNet

        c = self.config
        return BERT4RecNet(
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
            options: seed, threads and progress (a tqdm bar over the epochs).
            monitor: optional hook after each epoch, given the model ready to score (e.g.
                validation NDCG while tuning); True stops training there.
        """
        torch = _torch()
        from cinerec.recommenders._bert4rec_net import cloze_rows, item_windows
        from cinerec.recommenders._sasrec_net import train_epoch

        c = self.config
        windows = item_windows(_sequences(interactions), max_len=c.max_len, stride=c.window_stride)
        if len(windows) == 0:
            raise ModelError("Cannot train BERT4Rec: no user has two or more interactions")
        torch.set_num_threads(max(options.threads, 1))
        torch.manual_seed(options.seed)
        generator = np.random.default_rng(options.seed)
        net = self._make_net(len(interactions.items))
        optimizer = torch.optim.AdamW(
            net.parameters(),  # type: ignore[attr-defined]
            lr=c.learning_rate,
            weight_decay=c.weight_decay,
        )
        self._items = interactions.items
        self._popularity = popularity_scores(interactions.frame, interactions.items)
        self.losses, self.epoch_seconds = [], []
        bar = tqdm(total=c.epochs, desc="bert4rec", unit="epoch", disable=not options.progress)
        with bar:
            for epoch in range(c.epochs):
                started = time.perf_counter()
                inputs, labels = cloze_rows(
                    windows,
                    mask_token=net.mask_token,  # type: ignore[attr-defined]
                    mask_prob=c.mask_prob,
                    generator=generator,
                )
                loss = train_epoch(
                    net,  # type: ignore[arg-type]
                    optimizer,
                    inputs,
                    labels,
                    batch_size=c.batch_size,
                    generator=generator,
                    bucket=c.length_buckets,
                )
                self.losses.append(loss)
                self.epoch_seconds.append(time.perf_counter() - started)
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}")
                net.eval()  # type: ignore[attr-defined]
                self._net = net
                if monitor is not None and monitor(epoch + 1, self):
                    break

    def _fitted(self) -> tuple[Vocabulary, object, np.ndarray]:
        if self._items is None or self._net is None or self._popularity is None:
            raise ModelError("The BERT4Rec model is not trained; call fit() or load an artifact")
        return self._items, self._net, self._popularity

    def _tokens(self, histories: Sequence[Sequence[Rated]]) -> np.ndarray:
        """Rows of left-padded tokens: the last known items of each history, then [MASK].

        A history with no known item gets an all-padding row.
        """
        items, net, _ = self._fitted()
        room = self.config.max_len - 1
        tokens = np.zeros((len(histories), self.config.max_len), dtype=np.int64)
        for row, history in enumerate(histories):
            tail = [items.index(r.movie_id) + 1 for r in history if r.movie_id in items][-room:]
            if tail:
                tokens[row, -len(tail) - 1 :] = [*tail, net.mask_token]  # type: ignore[attr-defined]
        return tokens

    def batch_scores(
        self, histories: Sequence[Sequence[Rated]], *, batch_size: int = 256
    ) -> np.ndarray:
        """Scores of the masked next item for many histories: (histories, known items), float32.

        A row whose history has no known movie holds the popularity scores.
        """
        import torch

        items, net, popularity = self._fitted()
        tokens = self._tokens(histories)
        out = np.empty((len(histories), len(items)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(histories), batch_size):
                chunk = torch.from_numpy(tokens[start : start + batch_size])
                hidden = net(chunk)[:, -1]  # type: ignore[operator]
                out[start : start + batch_size] = net.logits(hidden).numpy()  # type: ignore[attr-defined]
        out[~tokens.any(axis=1)] = popularity.astype(np.float32)
        return out

    def scores(self, history: Sequence[Rated]) -> np.ndarray | None:
        """Scores of every known item as the next one, or None when no history item is known."""
        tokens = self._tokens([history])
        if not tokens.any():
            return None
        return self.batch_scores([history])[0].astype(np.float64)

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """Top ``n`` next movies for a history in time order; popularity if none is known."""
        check_n(n)
        items, _, popularity = self._fitted()
        scores = self.scores(history)
        return top_n(
            popularity if scores is None else scores,
            items,
            n,
            blocked_indices(history, exclude, items),
        )

    def save(self, path: Path) -> None:
        """Write item ids, the network's weights and the popularity fallback into ``path``."""
        items, net, popularity = self._fitted()
        state = net.state_dict()  # type: ignore[attr-defined]
        write_model(
            path,
            name=self.name,
            config=asdict(self.config),
            item_ids=items.ids,
            popularity=popularity,
            **{f"net.{key}": value.detach().numpy() for key, value in state.items()},
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`; :class:`ModelError` if missing or corrupt."""
        torch = _torch()
        config, arrays = read_model(path, name=cls.name)
        state = {k.removeprefix("net."): v for k, v in arrays.items() if k.startswith("net.")}
        try:
            model = cls(BERT4RecConfig(**config))
            ids = arrays["item_ids"]
            net = model._make_net(len(ids))
            net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})  # type: ignore[attr-defined]
            popularity = arrays["popularity"].astype(np.float64)
        except (TypeError, KeyError, ConfigError, RuntimeError) as exc:
            raise ModelError(
                f"The BERT4Rec model at {path} is incomplete ({exc}); retrain it"
            ) from exc
        net.eval()  # type: ignore[attr-defined]
        model._items, model._net, model._popularity = Vocabulary(ids.tolist()), net, popularity
        return model
