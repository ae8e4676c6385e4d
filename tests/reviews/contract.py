"""The contract every review (sentiment) model keeps; a new model gets it by one subclass.

A subclass sets ``registry_name`` (its name in
:data:`cinerec.reviews.sentiment.SENTIMENT_MODELS`) and the ``untrained`` fixture. The
promises: ``fit`` returns the model and learns the toy corpus's polarity, ``predict_proba``
gives one probability row per text, ``predict`` the label of the likelier class, a model
predicts only after ``fit`` (a :class:`~cinerec.errors.ModelError` before), and ``save`` then
``load`` gives the same probabilities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cinerec.errors import ModelError


class ReviewModelContract:
    """Mixin: subclasses set ``registry_name`` and override the ``untrained`` fixture."""

    registry_name: str | None = None

    @pytest.fixture
    def untrained(self) -> Any:
        raise NotImplementedError

    def prepare_loaded(self, model: Any) -> None:
        """What a loaded model needs before it predicts in a test (nothing by default)."""

    @pytest.fixture
    def trained(self, untrained: Any, toy_sentiment: tuple[list[str], list[int]]) -> Any:
        texts, labels = toy_sentiment
        model = untrained.fit(texts, labels)
        assert model is untrained
        return model

    def test_learns_the_polarity(
        self, trained: Any, toy_sentiment: tuple[list[str], list[int]]
    ) -> None:
        texts, labels = toy_sentiment
        assert (np.asarray(trained.predict(texts)) == np.array(labels)).mean() >= 0.8

    def test_probabilities_are_rows_that_sum_to_one(
        self, trained: Any, toy_sentiment: tuple[list[str], list[int]]
    ) -> None:
        texts = toy_sentiment[0][:7]
        proba = trained.predict_proba(texts)
        assert proba.shape == (7, 2)
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        assert list(trained.predict(texts)) == list(proba.argmax(axis=1))

    def test_predicts_only_after_fit(self, untrained: Any) -> None:
        with pytest.raises(ModelError):
            untrained.predict_proba(["a great film"])

    def test_save_load_keeps_the_probabilities(
        self, trained: Any, toy_sentiment: tuple[list[str], list[int]], tmp_path: Path
    ) -> None:
        texts = toy_sentiment[0][:5]
        saved = trained.save(tmp_path / "model")
        loaded = type(trained).load(saved)
        self.prepare_loaded(loaded)
        np.testing.assert_allclose(
            loaded.predict_proba(texts), trained.predict_proba(texts), atol=1e-4
        )
