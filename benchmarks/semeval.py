"""SemEval-2014 Task 4 restaurants: aspect-category detection (F1) and category polarity (acc).

The public benchmark for the aspect model family. Thresholds are tuned on a held-out part of
the *training* file; the test file is only scored.

* Category F1: micro F1 over the five categories (subtask 3).
* Category polarity: accuracy over the gold ``(sentence, category)`` pairs, all four gold
  polarities (positive, negative, neutral, conflict) counted (subtask 4).

Two model families: the TF-IDF one (:func:`evaluate_semeval`) and the fine-tuned MiniLM
(:func:`evaluate_semeval_transformer`: a multi-label category model and a polarity model on
``(sentence, category)`` pairs, both early-stopped on the held-out part of the training file).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.data.reviews import AbsaSentence
from cinerec.evaluation.bootstrap import ConfidenceInterval
from cinerec.reviews.aspects.classifier import (
    AspectClassifier,
    AspectClassifierConfig,
    decide_labels,
    f1_thresholds,
)
from cinerec.reviews.aspects.polarity import AspectPolarityClassifier, AspectPolarityConfig
from cinerec.reviews.metrics import accuracy_ci, micro_f1_ci
from cinerec.reviews.transformer import TransformerClassifier, TransformerConfig

CATEGORIES = ("food", "service", "price", "ambience", "anecdotes/miscellaneous")


def category_matrix(sentences: Sequence[AbsaSentence], categories: Sequence[str]) -> np.ndarray:
    """0/1 matrix of gold categories, columns in ``categories`` order."""
    return np.array(
        [[int(c in s.categories) for c in categories] for s in sentences], dtype=np.int8
    ).reshape(len(sentences), len(categories))


def holdout_split(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the fitting part and of the held-out ``holdout`` share of ``n`` sentences."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(n * (1 - holdout))
    return order[:cut], order[cut:]


def polarity_pairs(sentences: Sequence[AbsaSentence]) -> tuple[list[str], list[str], list[str]]:
    """Texts, categories and polarities of every gold ``(sentence, category)`` pair."""
    texts, cats, pols = [], [], []
    for s in sentences:
        for cat, pol in s.categories.items():
            texts.append(s.text)
            cats.append(cat)
            pols.append(pol)
    return texts, cats, pols


@dataclass(frozen=True)
class SemevalReport:
    """Scores on the test file with the settings that produced them."""

    category_f1: ConfidenceInterval
    polarity_accuracy: ConfidenceInterval
    thresholds: dict[str, float]
    category_config: AspectClassifierConfig
    polarity_config: AspectPolarityConfig


def evaluate_semeval(
    train: Sequence[AbsaSentence],
    test: Sequence[AbsaSentence],
    *,
    category_config: AspectClassifierConfig | None = None,
    polarity_config: AspectPolarityConfig | None = None,
    holdout: float = 0.2,
    seed: int = 0,
) -> SemevalReport:
    """Train on ``train`` (thresholds from a ``holdout`` share of it), score on ``test``."""
    category_config = category_config or AspectClassifierConfig(at_least_one=True)
    polarity_config = polarity_config or AspectPolarityConfig()
    y_train = category_matrix(train, CATEGORIES)
    texts = [s.text for s in train]
    fit_idx, tune_idx = holdout_split(len(train), holdout, seed)
    probe = AspectClassifier(category_config).fit(
        [texts[i] for i in fit_idx], y_train[fit_idx], CATEGORIES
    )
    thresholds = probe.tune_thresholds(
        probe.predict_proba([texts[i] for i in tune_idx]), y_train[tune_idx]
    )
    model = AspectClassifier(category_config).fit(texts, y_train, CATEGORIES)
    model.thresholds = thresholds
    pred = model.predict([s.text for s in test])
    f1 = micro_f1_ci(category_matrix(test, CATEGORIES), pred, seed=seed)

    pol = AspectPolarityClassifier(polarity_config).fit(*polarity_pairs(train))
    t_texts, t_cats, t_pols = polarity_pairs(test)
    acc = accuracy_ci(np.array(t_pols), pol.predict(t_texts, t_cats))
    return SemevalReport(
        f1,
        acc,
        dict(zip(CATEGORIES, map(float, thresholds), strict=True)),
        category_config,
        polarity_config,
    )


@dataclass(frozen=True)
class TransformerSemevalReport:
    """Test scores of the fine-tuned models, their thresholds, configs and training history."""

    category_f1: ConfidenceInterval
    polarity_accuracy: ConfidenceInterval
    thresholds: dict[str, float]
    category_config: TransformerConfig
    polarity_config: TransformerConfig
    history: dict[str, list[dict[str, float]]]
    seconds: float


def evaluate_semeval_transformer(
    train: Sequence[AbsaSentence],
    test: Sequence[AbsaSentence],
    *,
    category_config: TransformerConfig | None = None,
    polarity_config: TransformerConfig | None = None,
    holdout: float = 0.15,
    seed: int = 0,
) -> TransformerSemevalReport:
    """Fine-tune on ``1 - holdout`` of ``train``; the holdout early-stops both models and sets
    the category thresholds; ``test`` is only scored."""
    started = time.perf_counter()
    category_config = category_config or TransformerConfig(max_tokens=96, head_tokens=64)
    polarity_config = polarity_config or TransformerConfig(max_tokens=96, head_tokens=64)
    fit_idx, tune_idx = holdout_split(len(train), holdout, seed)
    fit, tune = [train[i] for i in fit_idx], [train[i] for i in tune_idx]
    y_fit, y_tune = category_matrix(fit, CATEGORIES), category_matrix(tune, CATEGORIES)
    categories = TransformerClassifier(category_config).fit(
        [s.text for s in fit],
        y_fit,
        label_names=list(CATEGORIES),
        validation=([s.text for s in tune], y_tune),
    )
    thresholds = f1_thresholds(categories.predict_proba([s.text for s in tune]), y_tune)
    pred = decide_labels(
        categories.predict_proba([s.text for s in test]), thresholds, at_least_one=True
    )
    f1 = micro_f1_ci(category_matrix(test, CATEGORIES), pred, seed=seed)

    def pairs(sentences: Sequence[AbsaSentence]) -> tuple[list[tuple[str, str]], list[str]]:
        texts, cats, pols = polarity_pairs(sentences)
        return list(zip(texts, cats, strict=True)), pols

    polarity = TransformerClassifier(polarity_config).fit(*pairs(fit), validation=pairs(tune))
    t_pairs, t_pols = pairs(test)
    acc = accuracy_ci(np.array(t_pols), polarity.predict(t_pairs))
    return TransformerSemevalReport(
        f1,
        acc,
        dict(zip(CATEGORIES, map(float, thresholds), strict=True)),
        category_config,
        polarity_config,
        {"category": categories.history.epochs, "polarity": polarity.history.epochs},
        time.perf_counter() - started,
    )
