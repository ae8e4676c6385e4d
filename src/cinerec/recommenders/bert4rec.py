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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from cinerec.data.types import Interactions, Rated
from cinerec.recommenders.sasrec import SASRecRecommender, SequenceConfig, _sequences


@dataclass(frozen=True, slots=True)
class BERT4RecConfig(SequenceConfig):
    """Hyperparameters of :class:`BERT4RecRecommender`.

    Sizes, dropout and learning rate are SASRec's defaults and ``mask_prob`` the paper's 0.2.
    On the leave-one-out split of ml-latest-small these reach validation NDCG@10 0.023 after
    30 epochs (92 s), barely above popularity (0.019), while SASRec reaches 0.077: the cloze
    task gives a label at a fifth of the positions and trains far more slowly (tuning trials
    in ``benchmarks/results/protocols/bert4rec_tuning/``). It is not a default. Training
    windows every 10 items (``window_stride=10``, 16 epochs) reach 0.0288 on the test items
    against 0.0162 in one run (``loo_b4r_stride/``), but train 359 s, over the 5-minute
    budget of a default config, so the defaults stay.

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

    epochs: int = 30
    mask_prob: float = 0.2

    min_len: ClassVar[int] = 2
    min_len_why: ClassVar[str] = ": history and [MASK]"

    def _own_problems(self) -> list[str]:
        if not 0.0 < self.mask_prob < 1.0:
            return [f"mask_prob must lie in (0, 1) (got {self.mask_prob})"]
        return []


class BERT4RecRecommender(SASRecRecommender):
    """Sequential candidates: the masked next movie, read by a bidirectional transformer.

    Scoring, recommending, saving and loading are SASRec's; the network, the training rows
    and the tokens a history is read as (its items, then [MASK], whose position is scored)
    are this model's.
    """

    name = "bert4rec"
    label = "BERT4Rec"
    config_type = BERT4RecConfig
    config: BERT4RecConfig

    def _net_class(self) -> type[Any]:
        from cinerec.recommenders._bert4rec_net import BERT4RecNet

        return BERT4RecNet

    def _training_rows(
        self, interactions: Interactions
    ) -> tuple[int, Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]]:
        """Windows of each history, with a fresh draw of [MASK]s every epoch (the cloze task)."""
        from cinerec.recommenders._bert4rec_net import cloze_rows, item_windows

        c = self.config
        windows = item_windows(_sequences(interactions), max_len=c.max_len, stride=c.window_stride)
        mask_token = len(interactions.items) + 1

        def rows(generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            return cloze_rows(
                windows, mask_token=mask_token, mask_prob=c.mask_prob, generator=generator
            )

        return len(windows), rows

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
