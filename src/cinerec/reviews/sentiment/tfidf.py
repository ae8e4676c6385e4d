"""Classical sentiment baseline: word + character n-gram TF-IDF and logistic regression.

With ``nb_weighting`` the features of a binary task are scaled by the naive-Bayes log-count
ratio first (NB-LR, after Wang & Manning 2012), which is usually worth a point on long reviews.
Character n-grams (``char_wb``) make the model work for Korean without a tokenizer: particles
glue onto nouns, so whole-word features are sparse.

Example:
    >>> m = TfidfSentimentModel(TfidfSentimentConfig(char_ngrams=None, min_df=1))
    >>> m = m.fit(["great fun", "awful bore", "great cast", "awful plot"], [1, 0, 1, 0])
    >>> m.predict(["great"]).tolist()
    [1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from cinerec.reviews.features import fit_vectorizers
from cinerec.reviews.persist import check_labels, fingerprint_labelled_texts
from cinerec.reviews.sentiment.base import SklearnSentimentModel

KIND = "sentiment-tfidf"


@dataclass(frozen=True, slots=True)
class TfidfSentimentConfig:
    """Features and regularisation of :class:`TfidfSentimentModel`.

    Attributes:
        word_ngrams: word n-gram range, or ``None`` for no word features.
        char_ngrams: ``char_wb`` n-gram range, or ``None`` for no character features.
        max_features: cap per vectorizer (most frequent kept).
        min_df: a feature must occur in this many documents.
        c: inverse regularisation strength of the logistic regression.
        nb_weighting: scale features by the NB log-count ratio (binary labels only).
        max_iter: solver iterations.
        seed: solver seed.
    """

    word_ngrams: tuple[int, int] | None = (1, 2)
    char_ngrams: tuple[int, int] | None = (2, 5)
    max_features: int | None = 500_000
    min_df: int = 2
    c: float = 4.0
    nb_weighting: bool = False
    max_iter: int = 1000
    seed: int = 0


class TfidfSentimentModel(SklearnSentimentModel):
    """TF-IDF features + (optionally NB-weighted) logistic regression; any number of classes."""

    artifact_kind = KIND
    config_class = TfidfSentimentConfig
    state_names = ("vectorizers", "nb_ratio", "classifier")
    untrained = "The sentiment model is not trained; call fit() or load() first."

    def __init__(self, config: TfidfSentimentConfig | None = None) -> None:
        self.config = config or TfidfSentimentConfig()
        self.vectorizers: list[Any] = []
        self.nb_ratio: np.ndarray | None = None
        self.classifier: Any = None
        self.fingerprint: str | None = None
        self.metadata: dict[str, Any] = {}

    def _features(self, texts: Sequence[str]) -> sp.csr_matrix:
        blocks = [v.transform(texts) for v in self.vectorizers]
        x = sp.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0].tocsr()
        return x.multiply(self.nb_ratio).tocsr() if self.nb_ratio is not None else x

    def fit(self, texts: Sequence[str], labels: Sequence[Any] | np.ndarray) -> TfidfSentimentModel:
        """Fit the vectorizers and the classifier; returns ``self``.

        Raises:
            ModelError: no texts, a length mismatch, fewer than two classes, or a config
                without any features.
        """
        from sklearn.linear_model import LogisticRegression

        cfg = self.config
        y = check_labels(len(texts), labels)
        self.vectorizers = fit_vectorizers(cfg, texts)
        self.nb_ratio = None
        x = self._features(texts)
        if cfg.nb_weighting and len(np.unique(y)) == 2:
            pos, neg = x[y == y.max()].sum(axis=0) + 1.0, x[y != y.max()].sum(axis=0) + 1.0
            self.nb_ratio = np.asarray(np.log((pos / pos.sum()) / (neg / neg.sum()))).ravel()
            x = x.multiply(self.nb_ratio).tocsr()
        self.classifier = LogisticRegression(
            C=cfg.c,
            max_iter=cfg.max_iter,
            solver="liblinear" if len(np.unique(y)) == 2 else "lbfgs",
            random_state=cfg.seed,
        )
        self.classifier.fit(x, y)
        self.fingerprint = fingerprint_labelled_texts(texts, y.tolist())
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), n_classes)``."""
        self._check_fitted()
        return self.classifier.predict_proba(self._features(list(texts)))
