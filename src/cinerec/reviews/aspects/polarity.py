"""Per-aspect polarity on ``(text, aspect)`` pairs: one linear model with feature augmentation.

Each pair's TF-IDF vector is copied into a shared block and into the block of its aspect
(Daume's "frustratingly easy" augmentation), so the model learns polarity words common to all
aspects and words that only matter for one ("cheap" is good for price, bad for food) while
rare aspects borrow strength from the shared block.

Example:
    >>> m = AspectPolarityClassifier(AspectPolarityConfig(char_ngrams=None, min_df=1))
    >>> m = m.fit(["great food", "bad food", "great staff", "bad staff"],
    ...           ["food", "food", "service", "service"], ["pos", "neg", "pos", "neg"])
    >>> m.predict(["great"], ["service"]).tolist()
    ['pos']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from cinerec.errors import ModelError
from cinerec.reviews.features import fit_vectorizers, transform
from cinerec.reviews.persist import SavedTextModel, fingerprint_labelled_texts

KIND = "aspect-polarity"


@dataclass(frozen=True, slots=True)
class AspectPolarityConfig:
    """Features and regularisation of :class:`AspectPolarityClassifier`."""

    word_ngrams: tuple[int, int] | None = (1, 2)
    char_ngrams: tuple[int, int] | None = (2, 5)
    min_df: int = 2
    max_features: int | None = 300_000
    c: float = 4.0
    class_weight: str | None = None
    seed: int = 0


class AspectPolarityClassifier(SavedTextModel):
    """Polarity of a text towards an aspect; classes are whatever labels it was fitted on.

    Saved with its config, aspects and data fingerprint.
    """

    artifact_kind = KIND
    config_class = AspectPolarityConfig
    state_names = ("aspects", "vectorizers", "model")

    def __init__(self, config: AspectPolarityConfig | None = None) -> None:
        self.config = config or AspectPolarityConfig()
        self.aspects: tuple[str, ...] = ()
        self.vectorizers: list[Any] = []
        self.model: Any = None
        self.fingerprint: str | None = None
        self.metadata: dict[str, Any] = {}

    @property
    def classes_(self) -> np.ndarray:
        """Polarity labels in the column order of :meth:`predict_proba`."""
        if self.model is None:
            raise ModelError("The polarity classifier is not trained; call fit() first.")
        return self.model.classes_

    def _features(self, texts: Sequence[str], aspects: Sequence[str]) -> sp.csr_matrix:
        if len(texts) != len(aspects):
            raise ModelError(f"Need one aspect per text (got {len(texts)} and {len(aspects)}).")
        x = transform(self.vectorizers, list(texts))
        blocks = [x]
        for aspect in self.aspects:
            mask = sp.diags(np.array([a == aspect for a in aspects], dtype=float))
            blocks.append(mask @ x)
        return sp.hstack(blocks, format="csr")

    def fit(
        self, texts: Sequence[str], aspects: Sequence[str], labels: Sequence[str]
    ) -> AspectPolarityClassifier:
        """Fit on pairs ``(texts[i], aspects[i])`` with polarity ``labels[i]``.

        Raises:
            ModelError: lengths differ, no pairs, or a single polarity.
        """
        from sklearn.linear_model import LogisticRegression

        if not texts or not (len(texts) == len(aspects) == len(labels)):
            raise ModelError("Need equally many texts, aspects and labels, at least one each.")
        if len(set(labels)) < 2:
            raise ModelError("Training needs at least two polarities; add examples of another.")
        cfg = self.config
        self.aspects = tuple(sorted(set(aspects)))
        self.vectorizers = fit_vectorizers(cfg, texts)
        self.model = LogisticRegression(
            C=cfg.c, class_weight=cfg.class_weight, max_iter=2000, random_state=cfg.seed
        )
        self.model.fit(self._features(texts, aspects), np.asarray(labels))
        keyed = [f"{a}\t{t}" for a, t in zip(aspects, texts, strict=True)]
        self.fingerprint = fingerprint_labelled_texts(keyed, labels)
        return self

    def predict_proba(self, texts: Sequence[str], aspects: Sequence[str]) -> np.ndarray:
        """Polarity probabilities per pair, columns in :attr:`classes_` order."""
        classes = self.classes_
        del classes
        return self.model.predict_proba(self._features(texts, aspects))

    def predict(self, texts: Sequence[str], aspects: Sequence[str]) -> np.ndarray:
        """The most probable polarity of each pair."""
        return self.classes_[self.predict_proba(texts, aspects).argmax(axis=1)]
