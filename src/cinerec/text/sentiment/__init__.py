"""Review sentiment classifiers: a classical TF-IDF baseline (``tfidf``) behind one registry."""

from cinerec.text.sentiment.tfidf import TfidfSentimentConfig, TfidfSentimentModel

SENTIMENT_MODELS: dict[str, type[TfidfSentimentModel]] = {"tfidf": TfidfSentimentModel}
"""Explicit registry: name -> class with ``fit``, ``predict_proba``, ``save``, ``load``."""

__all__ = ["SENTIMENT_MODELS", "TfidfSentimentConfig", "TfidfSentimentModel"]
