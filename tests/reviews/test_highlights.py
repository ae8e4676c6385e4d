from __future__ import annotations

import numpy as np

from cinerec.reviews.highlights import (
    Highlight,
    class_score,
    mask_highlights,
    merge_adjacent,
    word_spans,
)
from cinerec.reviews.sentiment import TfidfSentimentConfig, TfidfSentimentModel


def test_spans_point_at_the_cue_words_of_a_trained_model(
    toy_sentiment: tuple[list[str], list[int]],
) -> None:
    texts, labels = toy_sentiment
    cfg = TfidfSentimentConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1)
    model = TfidfSentimentModel(cfg).fit(texts, labels)
    text = "The cast was really superb and the night scene quite wonderful."
    found = mask_highlights(text, class_score(model.predict_proba, 1), top_k=2)
    assert {text[h.start : h.end] for h in found} == {"superb", "wonderful"}
    assert all(h.drop > 0 for h in found) and found[0].drop >= found[1].drop
    negative = "A dull movie."
    [top] = mask_highlights(negative, class_score(model.predict_proba, 0), top_k=1)
    assert negative[top.start : top.end] == "dull"


def test_repeated_word_masked_at_once_and_first_span_returned() -> None:
    def score(texts: list[str]) -> np.ndarray:
        return np.array([t.count("bad") / 2 for t in texts])

    [h] = mask_highlights("bad, so bad", score, top_k=3)
    assert (h.start, h.end, h.text) == (0, 3, "bad") and h.drop == 1.0


def test_no_drop_no_highlight_and_korean_words() -> None:
    assert mask_highlights("flat text here", lambda t: np.ones(len(t))) == []
    spans = [w for _, _, w in word_spans("연기가 최고! don't")]
    assert spans == ["연기가", "최고", "don't"]


def test_merge_adjacent_joins_phrases() -> None:
    text = "truly awful acting here"
    hs = [Highlight(6, 11, "awful", 0.3), Highlight(12, 18, "acting", 0.2)]
    [merged] = merge_adjacent(text, hs)
    assert text[merged.start : merged.end] == "awful acting"
