"""The BERT4Rec network (Sun et al. 2019) and its cloze training rows, in PyTorch.

Private to :mod:`cinerec.recommenders.bert4rec`. The network is
:class:`~cinerec.recommenders._sasrec_net.SASRecNet` with its attention made bidirectional
and one more token: index 0 is padding, item ``i`` of the vocabulary is token ``i + 1``, and
token ``n_items + 1`` is ``[MASK]``. The blocks, positions and the training step
(:func:`~cinerec.recommenders._sasrec_net.train_epoch`, full-softmax cross-entropy at every
position with a label) are SASRec's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cinerec.recommenders._sasrec_net import SASRecNet, training_windows


class BERT4RecNet(SASRecNet):
    """Bidirectional self-attention over an item sequence; a hidden state per position.

    ``forward`` takes left-padded tokens, as SASRec's does; every real token attends to
    every other real token, before and after it.
    """

    def __init__(self, n_items: int, **shape: Any) -> None:
        """``shape``: :class:`~cinerec.recommenders._sasrec_net.SASRecNet`'s keywords."""
        # One extra embedding row, the last, is the [MASK] token.
        super().__init__(n_items + 1, **shape)
        self.mask_token = n_items + 1
        # SASRecNet lets a position see the positions its `causal` buffer allows (and the
        # real tokens among them): all of them makes the attention bidirectional.
        self.causal.fill_(True)  # type: ignore[operator]  # a registered buffer

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every real item (padding and [MASK] columns dropped) per hidden state."""
        return hidden @ self.item_embedding.weight[1:-1].T


def item_windows(sequences: Sequence[np.ndarray], *, max_len: int, stride: int) -> np.ndarray:
    """Each token sequence cut into left-padded windows of up to ``max_len`` items.

    The window ending at the last item comes first; further windows end ``stride`` items
    earlier, as in :func:`~cinerec.recommenders._sasrec_net.training_windows` (whose
    next-item pairs, put back together, are these windows). Sequences of one item give none.
    """
    inputs, targets = training_windows(sequences, max_len=max_len - 1, stride=stride)
    return np.concatenate([inputs, targets[:, -1:]], axis=1)


def cloze_rows(
    windows: np.ndarray, *, mask_token: int, mask_prob: float, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Mask random items of each window: (inputs with [MASK], labels at the masked places).

    Each real item is masked with probability ``mask_prob``; a window that drew no mask gets
    its last item masked (the recommend-time task), so every window carries a label. Labels
    are 0 where nothing is predicted.
    """
    real = windows > 0
    masked = real & (generator.random(windows.shape) < mask_prob)
    none = ~masked.any(axis=1)
    masked[none, -1] = real[none, -1]
    inputs = np.where(masked, mask_token, windows)
    labels = np.where(masked, windows, 0)
    return inputs, labels
