"""The SASRec network (Kang & McAuley 2018) and its training windows, in PyTorch.

Private to :mod:`cinerec.recommenders.sasrec`. Index 0 is padding; item ``i`` of the
vocabulary is token ``i + 1``. The output layer shares the item embedding (scores are dot
products with every item), so full-softmax cross-entropy over the catalog costs one matrix
product per batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


class _Block(nn.Module):
    """Pre-norm transformer block: masked self-attention, then a GELU feed-forward layer."""

    def __init__(self, hidden: int, heads: int, dropout: float, attention_dropout: float) -> None:
        super().__init__()
        self.heads, self.p = heads, attention_dropout
        self.norm1, self.norm2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.qkv, self.out = nn.Linear(hidden, 3 * hidden), nn.Linear(hidden, hidden)
        self.ff = nn.Sequential(
            nn.Linear(hidden, 4 * hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(4 * hidden, hidden),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        b, length, hidden = x.shape
        qkv = self.qkv(self.norm1(x)).view(b, length, 3, self.heads, hidden // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attended = nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=allowed, dropout_p=self.p if self.training else 0.0
        )
        x = x + self.drop(self.out(attended.transpose(1, 2).reshape(b, length, hidden)))
        return x + self.drop(self.ff(self.norm2(x)))


class SASRecNet(nn.Module):
    """Causal self-attention over an item sequence; returns a hidden state per position."""

    def __init__(
        self,
        n_items: int,
        *,
        max_len: int,
        hidden: int,
        layers: int,
        heads: int,
        dropout: float,
        attention_dropout: float | None = None,
    ) -> None:
        super().__init__()
        self.max_len = max_len
        self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.position_embedding = nn.Embedding(max_len, hidden)
        self.dropout = nn.Dropout(dropout)
        p_attention = dropout if attention_dropout is None else attention_dropout
        self.blocks = nn.ModuleList(
            _Block(hidden, heads, dropout, p_attention) for _ in range(layers)
        )
        self.final_norm = nn.LayerNorm(hidden)
        causal = torch.tril(torch.ones(max_len, max_len, dtype=torch.bool))
        self.register_buffer("causal", causal, persistent=False)
        nn.init.normal_(self.item_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.02)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens``: (batch, length) left-padded ids -> (batch, length, hidden).

        ``length`` may be shorter than ``max_len`` (a batch trimmed of its all-padding
        columns); positions count back from the right edge, so the newest item always sits
        at position ``max_len - 1``, trimmed or not.
        """
        length = tokens.shape[1]
        if length > self.max_len:
            raise ValueError(f"At most {self.max_len} tokens per row, got {length}")
        real = tokens > 0
        # Attend to earlier real items, and always to oneself (no row is fully masked).
        eye = torch.eye(length, dtype=torch.bool, device=tokens.device)
        causal: torch.Tensor = self.causal  # type: ignore[assignment]  # a registered buffer
        allowed = (causal[:length, :length] & real[:, None, :]) | eye
        positions = torch.arange(self.max_len - length, self.max_len, device=tokens.device)
        x = self.item_embedding(tokens) * (self.item_embedding.embedding_dim**0.5)
        x = self.dropout(x + self.position_embedding(positions)[None]) * real.unsqueeze(-1)
        for block in self.blocks:
            x = block(x, allowed[:, None])
        return self.final_norm(x)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every real item (padding column dropped) for each hidden state."""
        return hidden @ self.item_embedding.weight[1:].T


def training_windows(
    sequences: Sequence[np.ndarray], *, max_len: int, stride: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut each token sequence into (input, target) windows, inputs left-padded with 0.

    The window ending at the last item comes first; further windows end ``stride`` items
    earlier each time, so long histories give several training rows.
    """
    inputs, targets = [], []
    for seq in sequences:
        end = len(seq)
        while end >= 2:
            window = seq[max(0, end - max_len - 1) : end]
            row_in = np.zeros(max_len, dtype=np.int64)
            row_out = np.zeros(max_len, dtype=np.int64)
            row_in[max_len - len(window) + 1 :] = window[:-1]
            row_out[max_len - len(window) + 1 :] = window[1:]
            inputs.append(row_in)
            targets.append(row_out)
            end -= stride
    if not inputs:
        return np.zeros((0, max_len), np.int64), np.zeros((0, max_len), np.int64)
    return np.stack(inputs), np.stack(targets)


def length_batches(
    lengths: np.ndarray, batch_size: int, generator: np.random.Generator
) -> list[np.ndarray]:
    """Row indices in batches of similar length, batches in random order.

    Rows are sorted by length plus a random jitter of up to a tenth of the spread of the
    lengths, so that batches differ from epoch to epoch while padding stays small; then the
    batches are shuffled.
    """
    spread = float(lengths.max() - lengths.min()) if len(lengths) else 0.0
    keys = lengths + generator.uniform(0.0, 0.1 * spread + 1.0, size=len(lengths))
    order = np.argsort(keys, kind="stable")
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    return [batches[i] for i in generator.permutation(len(batches))]


def train_epoch(
    net: SASRecNet,
    optimizer: torch.optim.Optimizer,
    inputs: np.ndarray,
    targets: np.ndarray,
    *,
    batch_size: int,
    generator: np.random.Generator,
    bucket: bool = True,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> float:
    """One pass over the windows; returns the mean cross-entropy.

    With ``bucket``, batches hold windows of similar length and are trimmed to their longest
    window (short histories stop paying for ``max_len`` columns of padding); without it,
    windows come in plain random order at full width. ``scheduler`` steps after every batch.
    """
    net.train()
    lengths = (inputs > 0).sum(axis=1)
    if bucket:
        batches = length_batches(lengths, batch_size, generator)
    else:
        order = generator.permutation(len(inputs))
        batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    total, count = 0.0, 0
    for batch in batches:
        width = int(lengths[batch].max()) if bucket else inputs.shape[1]
        tokens = torch.from_numpy(inputs[batch, -width:])
        labels = torch.from_numpy(targets[batch, -width:])
        keep = labels > 0
        hidden = net(tokens)[keep]
        loss = nn.functional.cross_entropy(net.logits(hidden), labels[keep] - 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += float(loss.detach()) * int(keep.sum())
        count += int(keep.sum())
    return total / max(count, 1)
