"""The review-model workflow behind ``cinerec reviews``: train, select, import, audit.

Tasks: ``imdb`` and ``nsmc`` (review sentiment) and ``aspects`` (movie aspects on IMDB
reviews, weak labels from the guideline overridden by imported human labels). Models live in
``<home>/artifacts/reviews/<task>.joblib``, human labels in ``<home>/reviews/labels-<task>.jsonl``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from cinerec.data.reviews import load_imdb, load_nsmc_raw, nsmc_balanced, nsmc_binary
from cinerec.errors import ModelError, ValidationError
from cinerec.reviews import active
from cinerec.reviews.aspects.classifier import AspectClassifier, AspectClassifierConfig
from cinerec.reviews.aspects.weak_labels import MOVIE_LEXICON, weak_label_matrix
from cinerec.reviews.metrics import accuracy_ci
from cinerec.reviews.sentiment import TfidfSentimentConfig, TfidfSentimentModel
from cinerec.reviews.transformer import TransformerConfig

Task = Literal["imdb", "nsmc", "aspects"]
TASKS: tuple[str, ...] = ("imdb", "nsmc", "aspects")
SENTIMENT_CONFIGS: dict[str, TfidfSentimentConfig] = {
    "imdb": TfidfSentimentConfig(word_ngrams=(1, 3), char_ngrams=None, c=4.0, nb_weighting=True),
    "nsmc": TfidfSentimentConfig(word_ngrams=(1, 2), char_ngrams=(1, 4), c=2.0, nb_weighting=True),
}
"""Defaults per task, chosen on validation data (IMDB: movie-held-out part of train)."""
ASPECT_CONFIG = AspectClassifierConfig(word_ngrams=(1, 2), char_ngrams=None, min_df=2)


@dataclass(frozen=True, slots=True)
class ReviewPaths:
    """Where a task's model and label store are kept under a cinerec home."""

    home: Path

    def model(self, task: str) -> Path:
        """The task's model file."""
        return self.home / "artifacts" / "reviews" / f"{task}.joblib"

    def labels(self, task: str) -> Path:
        """The task's human-label store (JSONL)."""
        return self.home / "reviews" / f"labels-{task}.jsonl"

    def transformer(self, task: str) -> Path:
        """The task's fine-tuned transformer (a directory, with its ONNX exports)."""
        return self.home / "artifacts" / "reviews" / f"{task}-minilm"

    def tuning(self, task: str) -> Path:
        """Where a task's hyper-parameter searches keep their trials and table."""
        return self.home / "artifacts" / "reviews" / f"tune-{task}"


@dataclass(frozen=True)
class TrainReport:
    """What a training run did and how well the model scored on held-out data."""

    task: str
    n_train: int
    n_human: int
    seconds: float
    path: Path
    scores: dict[str, Any] = field(default_factory=dict)


def check_task(task: str) -> str:
    """``task`` if known, else a :class:`ValidationError` listing the tasks."""
    if task not in TASKS:
        raise ValidationError(f"Unknown review task {task!r}; use one of {', '.join(TASKS)}.")
    return task


def load_corpus(
    task: str, data_dir: Path, *, limit: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Columns ``id, text, label, split`` of a task's corpus; ``limit`` caps training rows.

    IMDB's own train/test split is movie-disjoint; ``validation`` is the train reviews with
    ``imdb_id % 10 == 1``. NSMC is balanced per split like the official construction.
    """
    if check_task(task) == "nsmc":
        frame = nsmc_balanced(nsmc_binary(load_nsmc_raw(data_dir)), seed=1234)
        frame = frame.rename(columns={"review_id": "id"})
    else:
        frame = load_imdb(data_dir).rename(columns={"review_id": "id"})
        held = (frame["split"] == "train") & (frame["imdb_id"] % 10 == 1)
        frame.loc[held, "split"] = "validation"
    frame["id"] = frame["id"].astype(str)
    if limit is not None:
        train = frame[frame["split"] == "train"]
        if len(train) > limit:
            drop = train.drop(train.sample(n=limit, random_state=seed).index).index
            frame = frame.drop(drop)
    return frame[["id", "text", "label", "split"]].reset_index(drop=True)


def _apply_human(frame: pd.DataFrame, human: list[active.LabelledText], cast: Any) -> pd.DataFrame:
    """Training rows with human labels replacing (or adding to) the original ones."""
    if not human:
        return frame
    extra = pd.DataFrame(
        {
            "id": [h.id for h in human],
            "text": [h.text for h in human],
            "label": [cast(h.label) for h in human],
            "split": "train",
        }
    )
    keep = frame[~frame["id"].isin(set(extra["id"]))]
    return pd.concat([keep, extra], ignore_index=True)


def train_task(
    task: str, *, data_dir: Path, home: Path, limit: int | None = None, seed: int = 0
) -> TrainReport:
    """Train a task's model on its corpus plus imported human labels, score it, save it."""
    start = time.perf_counter()
    paths = ReviewPaths(home)
    human = active.load_label_store(paths.labels(check_task(task)))
    frame = load_corpus(task, data_dir, limit=limit, seed=seed)
    if task == "aspects":
        return _train_aspects(frame, human, paths, start)
    train = _apply_human(frame[frame["split"] == "train"], human, int)
    model = TfidfSentimentModel(SENTIMENT_CONFIGS[task]).fit(
        train["text"].tolist(), train["label"].to_numpy()
    )
    scores = {}
    for split in ("validation", "test"):
        part = frame[frame["split"] == split]
        if len(part):
            est = accuracy_ci(part["label"].to_numpy(), model.predict(part["text"].tolist()))
            scores[f"{split}_accuracy"] = est.as_dict()
    path = model.save(paths.model(task), metadata={"task": task, "scores": scores})
    return TrainReport(task, len(train), len(human), time.perf_counter() - start, path, scores)


TRANSFORMER_TASKS = ("imdb",)
"""Tasks the English MiniLM can learn (its vocabulary splits Hangul into single letters)."""


def _transformer_task(task: str) -> str:
    if check_task(task) not in TRANSFORMER_TASKS:
        raise ValidationError(
            f"The fine-tuned transformer is English-only; {task!r} keeps the TF-IDF model "
            f"(`cinerec reviews train {task}`). Use one of {', '.join(TRANSFORMER_TASKS)}."
        )
    return task


def _sample(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    if limit is None or len(frame) <= limit:
        return frame
    return frame.sample(n=limit, random_state=seed)


def finetune_task(
    task: str,
    *,
    data_dir: Path,
    home: Path,
    config: TransformerConfig | None = None,
    limit: int | None = 4000,
    eval_limit: int | None = 1000,
    export: bool = True,
    seed: int = 0,
    on_step: Any = None,
) -> TrainReport:
    """Fine-tune MiniLM on a sentiment task (plus human labels), score it, save and export it.

    Early stopping uses ``eval_limit`` validation reviews; the report's scores are accuracy on
    ``eval_limit`` other validation reviews and ``eval_limit`` test reviews (all when None).
    With ``export``, ``model.onnx`` and ``model.int8.onnx`` are written next to the weights
    (skipped with a note in the scores when onnxruntime is not installed).
    """
    from cinerec.reviews.sentiment.onnx_serving import export_onnx, quantize_int8
    from cinerec.reviews.transformer import TransformerClassifier

    start = time.perf_counter()
    paths = ReviewPaths(home)
    human = active.load_label_store(paths.labels(_transformer_task(task)))
    frame = load_corpus(task, data_dir, limit=limit, seed=seed)
    train = _apply_human(frame[frame["split"] == "train"], human, int)
    val = frame[frame["split"] == "validation"].sample(frac=1.0, random_state=seed)
    n_stop = len(val) // 2 if eval_limit is None else min(eval_limit, len(val) // 2)
    stop, held = val.iloc[:n_stop], val.iloc[n_stop:]
    model = TransformerClassifier(config or TransformerConfig(seed=seed)).fit(
        train["text"].tolist(),
        train["label"].to_numpy(),
        validation=(stop["text"].tolist(), stop["label"].to_numpy()),
        on_step=on_step,
    )
    scores: dict[str, Any] = {"epochs": model.history.epochs}
    for split, part in (("validation", held), ("test", frame[frame["split"] == "test"])):
        part = _sample(part, eval_limit, seed)
        est = accuracy_ci(part["label"].to_numpy(), model.predict(part["text"].tolist()))
        scores[f"{split}_accuracy"] = est.as_dict()
    directory = model.save(
        paths.transformer(task), metadata={"task": task, "scores": scores, "n_human": len(human)}
    )
    if export:
        try:
            export_onnx(model, directory)
            quantize_int8(directory)
            scores["onnx"] = "model.onnx, model.int8.onnx"
        except ModelError as exc:
            scores["onnx"] = f"not exported: {exc}"
    return TrainReport(task, len(train), len(human), time.perf_counter() - start, directory, scores)


def tune_task(
    task: str,
    *,
    data_dir: Path,
    home: Path,
    search: Any = None,
    limit: int | None = 2000,
    eval_limit: int | None = 500,
    address: str | None = None,
    seed: int = 0,
) -> Any:
    """ASHA search over the fine-tuning knobs on ``limit`` training and ``eval_limit``
    validation reviews (never test); the table goes to ``<tuning dir>/results.{csv,md}``."""
    from cinerec.reviews.sentiment.tuning import SearchConfig, asha_search, table_markdown

    frame = load_corpus(_transformer_task(task), data_dir, limit=limit, seed=seed)
    train = frame[frame["split"] == "train"]
    val = _sample(frame[frame["split"] == "validation"], eval_limit, seed)
    out = ReviewPaths(home).tuning(task)
    result = asha_search(
        (train["text"].tolist(), train["label"].tolist()),
        (val["text"].tolist(), val["label"].tolist()),
        search or SearchConfig(seed=seed),
        storage=out,
        address=address,
    )
    result.table.to_csv(out / "results.csv", index=False)
    (out / "results.md").write_text(table_markdown(result.table), encoding="utf-8")
    return result


def _aspect_labels(texts: list[str]) -> np.ndarray:
    return weak_label_matrix(texts, MOVIE_LEXICON)


def _train_aspects(
    frame: pd.DataFrame, human: list[active.LabelledText], paths: ReviewPaths, start: float
) -> TrainReport:
    train = frame[frame["split"] == "train"]
    texts = train["text"].tolist()
    ids = train["id"].tolist()
    y = _aspect_labels(texts)
    aspects = MOVIE_LEXICON.aspects
    override = {h.id: h for h in human}
    for i, rid in enumerate(ids):
        if rid in override:
            y[i] = [int(a in override[rid].label.split(active.ASPECT_SEPARATOR)) for a in aspects]
    for h in human:
        if h.id not in set(ids):
            texts.append(h.text)
            ids.append(h.id)
            y = np.vstack([y, [int(a in h.label.split(active.ASPECT_SEPARATOR)) for a in aspects]])
    model = AspectClassifier(ASPECT_CONFIG).fit(texts, y, aspects)
    share = dict(zip(aspects, map(float, y.mean(axis=0)), strict=True))
    path = model.save(paths.model("aspects"), metadata={"task": "aspects", "label_share": share})
    return TrainReport(
        "aspects",
        len(texts),
        len(human),
        time.perf_counter() - start,
        path,
        {"label_share": share},
    )


def select_candidates(
    task: str,
    *,
    data_dir: Path,
    home: Path,
    n: int,
    out: Path,
    rarity_weight: float = 0.3,
    pool_limit: int | None = 5000,
    seed: int = 0,
) -> list[active.Candidate]:
    """Pick ``n`` training reviews to label (not labelled yet) and export them to ``out``."""
    paths = ReviewPaths(home)
    labelled = {r.id for r in active.load_label_store(paths.labels(check_task(task)))}
    frame = load_corpus(task, data_dir, limit=pool_limit, seed=seed)
    pool = frame[frame["split"] == "train"]
    texts, ids = pool["text"].tolist(), pool["id"].tolist()
    if task == "aspects":
        model = AspectClassifier.load(paths.model(task))
        proba = model.predict_proba(texts)
        pred = model.decide(proba)
        unc = active.aspect_uncertainty(proba)
        rar = active.aspect_rarity(pred, pred)
        suggested = [
            active.ASPECT_SEPARATOR.join(a for a, on in zip(model.aspects, row, strict=True) if on)
            for row in pred
        ]
        p_top = proba.max(axis=1)
    else:
        sentiment = TfidfSentimentModel.load(paths.model(task))
        proba = sentiment.predict_proba(texts)
        pred_cls = sentiment.classes_[proba.argmax(axis=1)]
        unc = active.sentiment_uncertainty(proba)
        rar = active.class_rarity(pred_cls.tolist(), pool["label"].tolist())
        suggested = [str(c) for c in pred_cls]
        p_top = proba.max(axis=1)
    chosen = active.select(ids, unc, rar, n, rarity_weight=rarity_weight, exclude=labelled)
    cands = [
        active.Candidate(
            ids[i], texts[i], suggested[i], float(p_top[i]), float(unc[i]), float(rar[i])
        )
        for i in chosen
    ]
    active.export_candidates(cands, out)
    return cands


def allowed_labels(task: str) -> tuple[list[str], bool]:
    """Valid labels of a task and whether they are ``;``-separated sets."""
    if check_task(task) == "aspects":
        return list(MOVIE_LEXICON.aspects), True
    return ["0", "1"], False


def import_labels(task: str, *, path: Path, home: Path) -> int:
    """Merge an annotated exchange file into the task's label store; returns rows imported."""
    allowed, multi = allowed_labels(task)
    new = active.read_labels(path, allowed=allowed, multi=multi)
    store = ReviewPaths(home).labels(task)
    active.save_label_store(store, active.merge_labels(active.load_label_store(store), new))
    return len(new)


def audit_task(
    task: str, *, home: Path, folds: int = 5, threshold: float = 0.1
) -> active.AuditReport:
    """Cross-validated audit of the human labels of a sentiment task (a TF-IDF model per fold)."""
    records = active.load_label_store(ReviewPaths(home).labels(check_task(task)))
    if task == "aspects":
        raise ValidationError("Audit works on single-label tasks; use imdb or nsmc.")

    def fit_predict(train: list[str], labels: list[str], test: list[str]) -> np.ndarray:
        cfg = TfidfSentimentConfig(word_ngrams=(1, 2), char_ngrams=(2, 4), min_df=1)
        return TfidfSentimentModel(cfg).fit(train, labels).predict_proba(test)

    return active.audit_labels(records, fit_predict, folds=folds, threshold=threshold)
