from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.errors import ModelError
from cinerec.reviews.aspects.classifier import AspectClassifier, AspectClassifierConfig
from cinerec.reviews.aspects.polarity import AspectPolarityClassifier, AspectPolarityConfig

ASPECTS = ("food", "service", "price")
CFG = AspectClassifierConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1)
TEXTS = [
    "tasty pasta",
    "rude waiter",
    "cheap bill",
    "tasty pasta rude waiter",
    "fresh fish",
    "slow waiter",
    "expensive bill",
    "fresh fish cheap bill",
] * 3
LABELS = np.array(
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]] * 3
)


def test_multilabel_predictions() -> None:
    model = AspectClassifier(CFG).fit(TEXTS, LABELS, ASPECTS)
    assert model.predict(["tasty fish", "rude waiter and a cheap bill"]).tolist() == [
        [1, 0, 0],
        [0, 1, 1],
    ]
    assert model.predict_proba(["pasta"]).shape == (1, 3)


def test_at_least_one_and_threshold_tuning() -> None:
    model = AspectClassifier(
        AspectClassifierConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1, at_least_one=True)
    ).fit(TEXTS, LABELS, ASPECTS)
    model.thresholds = np.full(3, 0.999)
    assert model.predict(["tasty"]).sum() == 1  # top aspect kept
    proba = model.predict_proba(TEXTS)
    tuned = model.tune_thresholds(proba, LABELS)
    assert tuned.shape == (3,) and ((model.predict(TEXTS) == LABELS).all())


def test_constant_aspect_and_save_load(tmp_path: Path) -> None:
    labels = np.column_stack([LABELS[:, :2], np.zeros(len(LABELS), dtype=int)])
    model = AspectClassifier(CFG).fit(TEXTS, labels, ASPECTS)
    assert (model.predict_proba(TEXTS)[:, 2] == 0).all()
    loaded = AspectClassifier.load(model.save(tmp_path / "a.joblib"))
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert loaded.aspects == ASPECTS and loaded.fingerprint == model.fingerprint


def test_shape_errors() -> None:
    with pytest.raises(ModelError, match="Labels must be"):
        AspectClassifier(CFG).fit(TEXTS, LABELS[:, :2], ASPECTS)


def test_polarity_depends_on_the_aspect(tmp_path: Path) -> None:
    # "cheap" is good for price, bad for food: only the aspect blocks can learn that.
    texts = ["cheap", "cheap", "pricey", "pricey", "fresh", "stale", "kind", "rude"] * 4
    aspects = ["price", "food", "price", "food", "food", "food", "service", "service"] * 4
    labels = ["pos", "neg", "neg", "pos", "pos", "neg", "pos", "neg"] * 4
    cfg = AspectPolarityConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1, c=20.0)
    model = AspectPolarityClassifier(cfg).fit(texts, aspects, labels)
    assert model.predict(["cheap", "cheap"], ["price", "food"]).tolist() == ["pos", "neg"]
    loaded = AspectPolarityClassifier.load(model.save(tmp_path / "p.joblib"))
    assert loaded.predict(["rude"], ["service"]).tolist() == ["neg"]
    with pytest.raises(ModelError, match="one aspect per text"):
        model.predict(["a", "b"], ["food"])
