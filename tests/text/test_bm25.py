"""BM25: tokenisation for English and Korean, scoring that follows the formula, search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cinerec.errors import ModelError
from cinerec.text.bm25 import BM25Config, BM25Index, fold, tokenize


def test_latin_words_are_folded_stemmed_and_stop_words_dropped() -> None:
    assert tokenize("The Directors' FILMS of Amélie") == ["director", "film", "amelie"]
    assert tokenize("Ocean's Eleven") == ["ocean", "eleven"]
    assert tokenize("class bus analysis") == ["class", "bus", "analysis"]  # no over-stemming


def test_hangul_becomes_bigrams_so_particles_do_not_matter() -> None:
    assert tokenize("봉준호 감독은") == ["봉준", "준호", "감독", "독은"]
    assert "감독" in tokenize("감독이") and "감독" in tokenize("감독의")
    assert tokenize("집") == ["집"]  # a lone syllable stays
    assert tokenize("SF영화 2001") == ["sf", "영화", "2001"]


def test_fold_keeps_hangul_whole() -> None:
    assert fold("기생충 Amélie") == "기생충 amelie"


def test_scores_match_the_bm25_formula() -> None:
    docs = [["a", "b", "b"], ["b", "c"], ["c", "c", "c", "d"]]
    config = BM25Config(k1=1.2, b=0.75)
    index = BM25Index.build([10, 20, 30], tokens=docs, config=config)
    avg = sum(len(d) for d in docs) / 3
    n, df_b = 3, 2
    idf_b = math.log1p((n - df_b + 0.5) / (df_b + 0.5))
    expected = [
        idf_b * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(d) / avg)) if tf else 0.0
        for d, tf in ((d, d.count("b")) for d in docs)
    ]
    np.testing.assert_allclose(index.scores(["b"]), expected, rtol=1e-5)


def test_search_ranks_exclusive_terms_first_and_respects_k_and_exclude() -> None:
    index = BM25Index.build(
        [1, 2, 3, 4],
        [
            "Memento, a thriller by Christopher Nolan about memory",
            "Inception, a heist in dreams by Christopher Nolan",
            "Heat, a crime thriller by Michael Mann",
            "봉준호 감독의 기생충",
        ],
    )
    assert [i for i, _ in index.search("memory thriller")][:2] == [1, 3]
    top = index.search("nolan", k=1)
    assert len(top) == 1 and top[0][0] in (1, 2)
    assert {i for i, _ in index.search("nolan")} == {1, 2}
    assert [i for i, _ in index.search("nolan", exclude=[1])] == [2]
    assert [i for i, _ in index.search("봉준호 감독")] == [4]
    assert index.search("zzz unknown") == []
    assert index.search("nolan", k=0) == []
    scores = [s for _, s in index.search("thriller nolan")]
    assert scores == sorted(scores, reverse=True)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ModelError, match="one document per id"):
        BM25Index.build([1, 2], ["only one"])
    with pytest.raises(ModelError, match="distinct"):
        BM25Index.build([1, 1], ["a", "b"])
    empty = BM25Index.build([], [])
    assert empty.search("anything") == []
