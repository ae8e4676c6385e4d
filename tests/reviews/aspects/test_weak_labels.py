from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cinerec.reviews.aspects.weak_labels import (
    MOVIE_LEXICON,
    RESTAURANT_LEXICON,
    evidence_text,
    sentences,
    weak_label,
    weak_label_matrix,
    weak_polarity,
)

GUIDELINE = Path(__file__).resolve().parents[3] / "docs" / "aspect-guideline.md"


def test_every_cue_in_code_is_in_the_guideline() -> None:
    doc = GUIDELINE.read_text(encoding="utf-8")
    for aspect, cues in MOVIE_LEXICON.cues.items():
        section = re.findall(rf"\*\*{aspect}:\*\*(.+?)(?:\n\s*\n|\n\*|\Z)", doc, re.S)
        assert len(section) == 2, f"{aspect}: expected an English and a Korean cue list"
        listed = {c.strip().lower() for part in section for c in part.split(",")}
        missing = [c for c in cues if c.lower() not in listed]
        assert not missing, f"{aspect} cues missing from the guideline: {missing}"
    assert set(MOVIE_LEXICON.aspects) == {
        "story",
        "acting",
        "directing",
        "visuals",
        "music",
        "pacing",
        "ending",
        "emotion",
    }


def test_english_cues_match_whole_words_only() -> None:
    found = weak_label("The actors shine. An actionable plot-point.", MOVIE_LEXICON)
    assert "acting" in found and found["acting"][0].text == "actors"
    assert "story" in found  # "plot" in plot-point: hyphen is a word boundary
    assert "pacing" not in weak_label("Belongings everywhere.", MOVIE_LEXICON)  # no "long"


def test_korean_cues_match_inside_words_and_spans_are_exact() -> None:
    text = "배우들의 연기는 좋았지만 결말이 허무했다."
    found = weak_label(text, MOVIE_LEXICON)
    assert {"acting", "ending"} <= set(found)
    for spans in found.values():
        for s in spans:
            assert text[s.start : s.end] == s.text


def test_multiword_cue_and_matrix_columns() -> None:
    y = weak_label_matrix(["The last  scene!", "nothing here"], MOVIE_LEXICON)
    assert y.shape == (2, 8) and y[0, MOVIE_LEXICON.aspects.index("ending")] == 1
    assert y[1].sum() == 0


def test_evidence_and_weak_polarity_use_the_aspect_sentences() -> None:
    text = "The acting was superb. The ending was awful."
    assert evidence_text(text, "ending", MOVIE_LEXICON) == "The ending was awful."
    assert [s.text.strip() for s in sentences(text)][0] == "The acting was superb."

    def sentiment(texts: list[str]) -> np.ndarray:
        return np.array([0.9 if "superb" in t else 0.1 for t in texts])

    pol = weak_polarity(text, ["acting", "ending", "music"], MOVIE_LEXICON, sentiment)
    assert pol == {"acting": 0.9, "ending": 0.1}


def test_restaurant_lexicon_finds_categories() -> None:
    assert set(weak_label("Rude waiter, overpriced wine.", RESTAURANT_LEXICON)) == {
        "service",
        "price",
        "food",
    }
