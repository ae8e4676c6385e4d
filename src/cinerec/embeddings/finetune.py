"""Fine-tune MiniLM so that 'similar' means 'liked by the same people'.

Pairs of movies liked by one user (training split only) are positives; every other movie in the
batch is a negative (sentence-transformers' ``MultipleNegativesRankingLoss``, both directions).
Batches never hold a movie twice, so no positive is also used as a negative. The loop is a
plain torch loop around the sentence-transformers model and loss (the ``Trainer`` would pull
in ``datasets``/``accelerate``); it is short: one epoch over a capped number of pairs.

Example:
    >>> pairs = co_preference_pairs(train_frame, min_rating=4.0, max_pairs=2000)  # doctest: +SKIP
    >>> finetune_minilm(pairs, texts, out_dir, FinetuneConfig())  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cinerec.embeddings.minilm import load_sentence_transformer, shipped_model_dir
from cinerec.errors import ConfigError, DataError

RUN_FILE = "finetune.json"
Progress = Callable[[int, int, float], None]
"""Called with (step, total steps, loss of the step)."""


@dataclass(frozen=True, slots=True)
class FinetuneConfig:
    """Knobs of one fine-tuning run.

    Attributes:
        min_rating: a rating at or above this is a 'like'.
        max_pairs: pairs sampled (the run's size; one epoch over them).
        batch_size: pairs per step; each pair's partner is the positive, the rest negatives.
        learning_rate: peak AdamW learning rate (linear warm-up, then linear decay).
        warmup_fraction: share of steps spent warming up.
        max_seq_tokens: word pieces read per description while training (the tail is cut).
        scale: MNRL's inverse temperature.
        seed: sampling and shuffling seed.
        threads: torch CPU threads.
        freeze_embeddings: keep the word-embedding table fixed (half the parameters; the
            update is much cheaper and a small run cannot overfit the vocabulary).
    """

    min_rating: float = 4.0
    max_pairs: int = 2000
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_fraction: float = 0.1
    max_seq_tokens: int = 128
    scale: float = 20.0
    seed: int = 42
    threads: int = 1
    freeze_embeddings: bool = True

    def __post_init__(self) -> None:
        if self.max_pairs < 1 or self.batch_size < 2:
            raise ConfigError("max_pairs must be >= 1 and batch_size >= 2 (MNRL needs negatives)")


def co_preference_pairs(
    frame: pd.DataFrame, *, min_rating: float = 4.0, max_pairs: int = 2000, seed: int = 42
) -> list[tuple[int, int]]:
    """Distinct unordered pairs of movies liked by the same user.

    A pair is drawn by picking a random 'like' (so popular movies appear as often as they are
    liked), then another movie the same user liked. Pass the *training* split only: pairs
    built from test interactions would leak the answers into the model.

    Args:
        frame: interactions with ``user_id``, ``item_id`` and ``rating``.
        min_rating: ratings at or above it are likes.
        max_pairs: at most this many pairs.
        seed: random seed.

    Raises:
        DataError: no user has two likes.
    """
    liked = frame[frame["rating"] >= min_rating]
    groups = {
        int(u): g.to_numpy(np.int64)
        for u, g in liked.groupby("user_id")["item_id"]
        if g.nunique() >= 2
    }
    if not groups:
        raise DataError(f"No user liked two movies (rating >= {min_rating}); lower min_rating")
    users = np.concatenate([np.full(len(g), u) for u, g in groups.items()])
    rng = np.random.default_rng(seed)
    pairs: dict[tuple[int, int], None] = {}
    attempts = 0
    while len(pairs) < max_pairs and attempts < 20 * max_pairs:
        attempts += 1
        items = groups[int(users[rng.integers(len(users))])]
        a, b = rng.choice(items, size=2, replace=False)
        if a != b:
            pairs.setdefault((int(min(a, b)), int(max(a, b))))
    return list(pairs)


def batches_without_repeats(
    pairs: Sequence[tuple[int, int]], batch_size: int, seed: int
) -> list[list[tuple[int, int]]]:
    """Shuffle ``pairs`` into batches in which no movie occurs twice (pairs that do not fit
    wait for a later batch; the last batches may be smaller)."""
    rng = np.random.default_rng(seed)
    pending = [pairs[i] for i in rng.permutation(len(pairs))]
    batches: list[list[tuple[int, int]]] = []
    while pending:
        batch: list[tuple[int, int]] = []
        seen: set[int] = set()
        rest: list[tuple[int, int]] = []
        for pair in pending:
            if len(batch) < batch_size and pair[0] not in seen and pair[1] not in seen:
                batch.append(pair)
                seen.update(pair)
            else:
                rest.append(pair)
        if len(batch) >= 2:
            batches.append(batch)
        elif batch:
            break  # a lone pair has no negatives
        pending = rest
    return batches


def finetune_minilm(
    pairs: Sequence[tuple[int, int]],
    texts: Mapping[int, str],
    out_dir: Path,
    config: FinetuneConfig | None = None,
    *,
    base_dir: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train MiniLM on ``pairs`` and save it (loadable by ``MiniLMEmbedder``) in ``out_dir``.

    Args:
        pairs: movie id pairs from :func:`co_preference_pairs`.
        texts: movie id -> description; pairs with an id missing here are skipped.
        out_dir: where the model and ``finetune.json`` (config, counts, losses) are written.
        config: the run's knobs.
        base_dir: the model to start from (None: the shipped all-MiniLM-L6-v2).
        progress: optional callback after each step.

    Returns:
        What was written to ``finetune.json``.
    """
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    config = config or FinetuneConfig()
    usable = [(a, b) for a, b in pairs if a in texts and b in texts]
    if not usable:
        raise DataError("No pair has descriptions for both movies; check the catalog")
    torch.manual_seed(config.seed)
    model = load_sentence_transformer(base_dir or shipped_model_dir(), threads=config.threads)
    model.max_seq_length = config.max_seq_tokens
    loss_fn = MultipleNegativesRankingLoss(
        model, scale=config.scale, directions=("query_to_doc", "doc_to_query")
    )
    batches = batches_without_repeats(usable, config.batch_size, config.seed)
    total = len(batches)
    warmup = max(1, int(config.warmup_fraction * total))
    if config.freeze_embeddings:
        for name, parameter in model.named_parameters():
            if ".embeddings." in f".{name}":
                parameter.requires_grad = False
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(total - warmup, 1))),
    )
    model.train()
    losses: list[float] = []
    started = time.perf_counter()
    for step, batch in enumerate(batches, start=1):
        features = [
            {k: v for k, v in model.preprocess([texts[p[side]] for p in batch]).items()}
            for side in (0, 1)
        ]
        loss = loss_fn(features, torch.empty(0))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step, total, losses[-1])
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    run = {
        "config": asdict(config),
        "pairs": len(usable),
        "steps": total,
        "seconds": round(time.perf_counter() - started, 1),
        "loss_first_10": _mean(losses[:10]),
        "loss_last_10": _mean(losses[-10:]),
    }
    (out_dir / RUN_FILE).write_text(json.dumps(run, indent=2), encoding="utf-8")
    return run


def _mean(values: Sequence[float]) -> float:
    return round(float(np.mean(values)), 4) if values else math.nan
