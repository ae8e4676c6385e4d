"""What the sentiment models built on one scikit-learn classifier share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from cinerec.errors import ModelError
from cinerec.reviews.persist import SavedTextModel


class SklearnSentimentModel(SavedTextModel):
    """A saved text model whose predictions come from ``self.classifier``.

    A subclass implements ``predict_proba`` and says in ``untrained`` what an unfitted model
    tells its caller.
    """

    untrained: ClassVar[str]
    classifier: Any

    def _check_fitted(self) -> None:
        if self.classifier is None:
            raise ModelError(self.untrained)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels in the column order of :meth:`predict_proba`."""
        self._check_fitted()
        return self.classifier.classes_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), n_classes)``."""
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]
