from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.errors import ModelError
from cinerec.reviews.sentiment import SENTIMENT_MODELS, TfidfSentimentConfig, TfidfSentimentModel

SMALL = TfidfSentimentConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1, c=10.0)


@pytest.mark.parametrize("nb", [False, True])
def test_learns_polarity_words(toy_sentiment: tuple[list[str], list[int]], nb: bool) -> None:
    texts, labels = toy_sentiment
    model = TfidfSentimentModel(
        TfidfSentimentConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1, nb_weighting=nb)
    ).fit(texts, labels)
    assert model.predict(["a superb film", "a dull film"]).tolist() == [1, 0]
    proba = model.predict_proba(["wonderful"])
    assert proba.shape == (1, 2) and proba[0, 1] > 0.5


def test_char_ngrams_handle_korean_particles() -> None:
    texts = ["연기가 최고", "연기는 최고다", "정말 최악", "완전 최악이다"] * 5
    labels = [1, 1, 0, 0] * 5
    cfg = TfidfSentimentConfig(word_ngrams=None, char_ngrams=(1, 2), min_df=1)
    model = TfidfSentimentModel(cfg).fit(texts, labels)
    assert model.predict(["최고였음", "최악이네"]).tolist() == [1, 0]  # unseen inflections


def test_five_classes() -> None:
    texts = [f"w{k} filler" for k in range(5) for _ in range(6)]
    labels = [k for k in range(5) for _ in range(6)]
    model = TfidfSentimentModel(SMALL).fit(texts, labels)
    assert model.predict_proba(["w3"]).shape == (1, 5)
    assert model.predict(["w3 filler"]).tolist() == [3]


def test_save_load_roundtrip_keeps_predictions_and_fingerprint(
    toy_sentiment: tuple[list[str], list[int]], tmp_path: Path
) -> None:
    texts, labels = toy_sentiment
    model = TfidfSentimentModel(SMALL).fit(texts, labels)
    path = model.save(tmp_path / "m.joblib", metadata={"accuracy": 1.0})
    loaded = SENTIMENT_MODELS["tfidf"].load(path)
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.fingerprint == model.fingerprint and len(model.fingerprint or "") == 64
    assert loaded.config == SMALL and loaded.metadata == {"accuracy": 1.0}
    other = TfidfSentimentModel(SMALL).fit(texts[:-1], labels[:-1])
    assert other.fingerprint != model.fingerprint


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="two classes"):
        TfidfSentimentModel(SMALL).fit(["a", "b"], [1, 1])
    with pytest.raises(ModelError, match="not trained"):
        TfidfSentimentModel(SMALL).predict(["a"])
    with pytest.raises(ModelError, match="cinerec reviews train"):
        TfidfSentimentModel.load(tmp_path / "missing.joblib")
