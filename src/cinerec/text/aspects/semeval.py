"""SemEval-2014 Task 4 restaurants: aspect-category detection (F1) and category polarity (acc).

The public benchmark for the aspect model family. Thresholds are tuned on a held-out part of
the *training* file; the test file is only scored.

* Category F1: micro F1 over the five categories (subtask 3).
* Category polarity: accuracy over the gold ``(sentence, category)`` pairs, all four gold
  polarities (positive, negative, neutral, conflict) counted (subtask 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cinerec.data.reviews import AbsaSentence
from cinerec.text.aspects.classifier import AspectClassifier, AspectClassifierConfig
from cinerec.text.aspects.polarity import AspectPolarityClassifier, AspectPolarityConfig
from cinerec.text.metrics import Estimate, accuracy_ci, micro_f1_ci

CATEGORIES = ("food", "service", "price", "ambience", "anecdotes/miscellaneous")


def category_matrix(sentences: Sequence[AbsaSentence], categories: Sequence[str]) -> np.ndarray:
    """0/1 matrix of gold categories, columns in ``categories`` order."""
    return np.array(
        [[int(c in s.categories) for c in categories] for s in sentences], dtype=np.int8
    ).reshape(len(sentences), len(categories))


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

    category_f1: Estimate
    polarity_accuracy: Estimate
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
    order = np.random.default_rng(seed).permutation(len(train))
    cut = int(len(train) * (1 - holdout))
    fit_idx, tune_idx = order[:cut], order[cut:]
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
