"""Multi-label aspect classifier: TF-IDF features, one sigmoid (logistic regression) per aspect.

Thresholds are per aspect (0.5 unless tuned on held-out data with :meth:`tune_thresholds`);
``at_least_one`` makes the top aspect present when none passes, which suits data where every
text has an aspect (SemEval-2014 categories).

Example:
    >>> m = AspectClassifier(AspectClassifierConfig(char_ngrams=None, min_df=1))
    >>> y = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    >>> m = m.fit(["tasty food", "rude staff", "food good", "staff slow"], y, ("food", "service"))
    >>> m.predict(["the food"]).tolist()
    [[1, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cinerec.errors import ModelError
from cinerec.reviews.features import fit_vectorizers, transform
from cinerec.reviews.persist import SavedTextModel, fingerprint_labelled_texts

KIND = "aspects-ovr"


def f1_thresholds(
    proba: np.ndarray, labels: np.ndarray, grid: Sequence[float] | None = None
) -> np.ndarray:
    """Per column, the threshold in ``grid`` (default 0.10 .. 0.90) with the best F1."""
    values = np.arange(0.1, 0.91, 0.05) if grid is None else np.asarray(grid, dtype=float)
    y = np.asarray(labels, dtype=bool)
    best = []
    for k in range(y.shape[1]):
        f1s = []
        for t in values:
            pred = proba[:, k] >= t
            tp = float((pred & y[:, k]).sum())
            denom = float(pred.sum() + y[:, k].sum())
            f1s.append(2 * tp / denom if denom else 0.0)
        best.append(float(values[int(np.argmax(f1s))]))
    return np.asarray(best)


def decide_labels(proba: np.ndarray, thresholds: np.ndarray, *, at_least_one: bool) -> np.ndarray:
    """0/1 decisions; with ``at_least_one`` a row with none gets its most probable label."""
    out = (proba >= thresholds).astype(np.int8)
    if at_least_one and len(out):
        empty = out.sum(axis=1) == 0
        out[empty, proba[empty].argmax(axis=1)] = 1
    return out


@dataclass(frozen=True, slots=True)
class AspectClassifierConfig:
    """Features, regularisation and decision rule of :class:`AspectClassifier`."""

    word_ngrams: tuple[int, int] | None = (1, 2)
    char_ngrams: tuple[int, int] | None = (2, 5)
    min_df: int = 2
    max_features: int | None = 300_000
    c: float = 8.0
    class_weight: str | None = "balanced"
    at_least_one: bool = False
    seed: int = 0


class AspectClassifier(SavedTextModel):
    """One logistic regression per aspect over shared TF-IDF features.

    Saved with its config, aspects, thresholds and data fingerprint.
    """

    artifact_kind = KIND
    config_class = AspectClassifierConfig
    state_names = ("aspects", "vectorizers", "models", "thresholds")

    def __init__(self, config: AspectClassifierConfig | None = None) -> None:
        self.config = config or AspectClassifierConfig()
        self.aspects: tuple[str, ...] = ()
        self.vectorizers: list[Any] = []
        self.models: list[Any] = []
        self.thresholds = np.zeros(0)
        self.fingerprint: str | None = None
        self.metadata: dict[str, Any] = {}

    def fit(
        self, texts: Sequence[str], labels: np.ndarray, aspects: Sequence[str]
    ) -> AspectClassifier:
        """Fit on a 0/1 matrix ``labels`` of shape ``(len(texts), len(aspects))``.

        An aspect with a single value in the data gets a constant predictor.

        Raises:
            ModelError: shapes disagree or there are no texts.
        """
        from sklearn.dummy import DummyClassifier
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(labels, dtype=int)
        if len(texts) == 0 or y.shape != (len(texts), len(aspects)):
            raise ModelError(
                f"Labels must be (texts, aspects) = ({len(texts)}, {len(aspects)}), got {y.shape}."
            )
        cfg = self.config
        self.aspects = tuple(aspects)
        self.vectorizers = fit_vectorizers(cfg, texts)
        x = transform(self.vectorizers, texts)
        self.models = []
        for k in range(len(aspects)):
            if len(np.unique(y[:, k])) < 2:
                model: Any = DummyClassifier(strategy="constant", constant=int(y[0, k]))
                model.fit(np.zeros((len(y), 1)), y[:, k])
            else:
                model = LogisticRegression(
                    C=cfg.c,
                    class_weight=cfg.class_weight,
                    solver="liblinear",
                    random_state=cfg.seed,
                    max_iter=1000,
                )
                model.fit(x, y[:, k])
            self.models.append(model)
        self.thresholds = np.full(len(aspects), 0.5)
        self.fingerprint = fingerprint_labelled_texts(texts, ["".join(map(str, r)) for r in y])
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(aspect present), shape ``(len(texts), n_aspects)``."""
        if not self.models:
            raise ModelError("The aspect classifier is not trained; call fit() or load() first.")
        x = transform(self.vectorizers, list(texts))
        cols = []
        for model in self.models:
            p = model.predict_proba(x if hasattr(model, "coef_") else np.zeros((x.shape[0], 1)))
            cols.append(p[:, list(model.classes_).index(1)] if 1 in model.classes_ else p[:, 0] * 0)
        return np.column_stack(cols)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """0/1 decisions from probabilities with the per-aspect thresholds."""
        return decide_labels(proba, self.thresholds, at_least_one=self.config.at_least_one)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """0/1 matrix of present aspects."""
        return self.decide(self.predict_proba(texts))

    def tune_thresholds(
        self, proba: np.ndarray, labels: np.ndarray, grid: Sequence[float] | None = None
    ) -> np.ndarray:
        """Set each aspect's threshold to the F1-best value on held-out ``(proba, labels)``."""
        self.thresholds = f1_thresholds(proba, labels, grid)
        return self.thresholds
