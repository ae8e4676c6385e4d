"""TF-IDF features shared by the classical text models (sentiment, aspects, polarity).

Word n-grams and/or ``char_wb`` n-grams with sublinear tf; character n-grams make a model work
for Korean without a tokenizer (particles glue onto nouns, so whole-word features are sparse).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import scipy.sparse as sp

from cinerec.errors import ModelError


def build_vectorizers(
    word_ngrams: tuple[int, int] | None,
    char_ngrams: tuple[int, int] | None,
    min_df: int,
    max_features: int | None,
) -> list[Any]:
    """Unfitted TF-IDF vectorizers (word and/or ``char_wb``) with sublinear tf.

    Raises:
        ModelError: neither word nor character n-grams are asked for.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    common = {"sublinear_tf": True, "min_df": min_df, "max_features": max_features}
    out: list[Any] = []
    if word_ngrams:
        out.append(TfidfVectorizer(ngram_range=word_ngrams, token_pattern=r"(?u)\b\w+\b", **common))
    if char_ngrams:
        out.append(TfidfVectorizer(analyzer="char_wb", ngram_range=char_ngrams, **common))
    if not out:
        raise ModelError("The config has neither word nor char n-grams; enable one.")
    return out


def fit_vectorizers(config: Any, texts: Sequence[str]) -> list[Any]:
    """The vectorizers a config asks for (its ``word_ngrams``, ``char_ngrams``, ``min_df`` and
    ``max_features``), fitted on ``texts``."""
    vectorizers = build_vectorizers(
        config.word_ngrams, config.char_ngrams, config.min_df, config.max_features
    )
    for v in vectorizers:
        v.fit(texts)
    return vectorizers


def transform(vectorizers: Sequence[Any], texts: Sequence[str]) -> sp.csr_matrix:
    """Stack the vectorizers' features side by side."""
    return sp.hstack([v.transform(texts) for v in vectorizers], format="csr")
