"""Each rate the LLM benchmarks report fails when fed a bad output.

The rows are what the benchmarks store; the scores come from the benchmarks' own scoring with
the independent title detector (a small reference built here, no data files)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks import chat_facts, llm_requests, posts
from benchmarks.checks.titles import Reference

REF = Reference.from_titles(["Heat (1995)", "Matrix, The (1999)", "Amelie (2001)"])


def _post_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "theme": "rainy day",
        "language": "en",
        "published": True,
        "attempts": 1,
        "review_calls": 2,
        "rewritten": 0,
        "synopsis_reviews": 0,
        "similarity_before": 0.2,
        "similarity_after": 0.2,
        "seconds": 1.0,
        "problems": [],
        "raw_outputs": [["plan", json.dumps({"ids": [1, 2], "caption": {"hook": "Rain."}})]],
        "post": {
            "caption": "Rain taps the window.\nSlow, warm stories.\nWhich one first?",
            "movies": [
                {"id": 1, "title": "Heat", "one_line_review": "A tense duel of two pros."},
                {"id": 2, "title": "Amelie", "one_line_review": "Paris, shy and playful."},
            ],
        },
    }
    row.update(changes)
    return posts.score_row(row, REF)


def _post_summary(*rows: dict[str, Any]) -> dict[str, Any]:
    return posts.summarize(list(rows), n=2)["all"]


def test_posts_a_clean_post_is_model_written() -> None:
    s = _post_summary(_post_row())
    assert s["model_written"]["count"] == 1 and s["raw_with_unknown_title"]["count"] == 0


def test_posts_template_caption_lines_fail_model_written() -> None:
    templated = _post_row(
        post={
            **_post_row()["post"],
            "caption": "Rainy day: a few movies for the mood.\nSlow, warm.\nWhich one first?",
        }
    )
    assert templated["template_lines"] == 1  # found by matching the product's template
    s = _post_summary(templated)
    assert s["model_written"]["count"] == 0 and s["published"]["count"] == 1
    assert s["template_caption_lines"]["count"] == 1 and s["template_caption_lines"]["n"] == 3


def test_posts_synopsis_fallback_fails_model_written() -> None:
    s = _post_summary(_post_row(synopsis_reviews=1), _post_row())
    assert s["model_written"]["count"] == 1 and s["synopsis_one_liners_rate"]["count"] == 1
    assert s["synopsis_one_liners_rate"]["n"] == 4


def test_posts_raw_and_shown_titles_are_counted_independently() -> None:
    raw = [["review 1", json.dumps({"review": 'Better than "Fake Movie 3000".'})]]
    s = _post_summary(_post_row(raw_outputs=raw, problems=["the review of 1 named a movie "
                                                           "that is not a candidate"]))  # fmt: skip
    assert s["raw_with_unknown_title"]["count"] == 1 and s["product_caught"]["title"] == 1
    shown = _post_row()
    shown["post"]["movies"][0]["one_line_review"] = "Like Galactic Tacos 2, only sadder."
    assert _post_summary(posts.score_row(shown, REF))["shown_with_unknown_title"]["count"] == 1


def test_posts_unpublished_fails_published() -> None:
    s = _post_summary(_post_row(published=False, post=None), _post_row())
    assert s["published"]["count"] == 1 and s["published"]["n"] == 2


def _request(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "plan": 0,
        "kind": "ordinary",
        "language": "en",
        "request": "reason",
        "schema_valid": True,
        "flagged_fallback": False,
        "cleaned": False,
        "error": None,
        "seconds": 1.0,
        "text": "A tense crime duel, like Heat.",
        "raw_text": json.dumps({"reason": "A tense crime duel, like Heat."}),
        "repairs": [],
        "product_non_catalog_titles": [],
    }
    row.update(changes)
    return llm_requests.score_row(row, REF)


@pytest.mark.parametrize(
    "bad",
    [{"flagged_fallback": True}, {"cleaned": True}, {"repairs": ["cut end: 'a' -> 'a…'"]}],
)
def test_requests_any_repair_or_fallback_fails_used_as_written(bad: dict[str, Any]) -> None:
    assert _request()["used_as_written"] and not _request(**bad)["used_as_written"]


def test_requests_raw_title_echo_and_language_are_failures() -> None:
    raw = json.dumps({"reason": "Ignore the rules: watch Galactic Tacos 2 instead."})
    row = _request(raw_text=raw)
    assert row["raw_unknown_titles"] == ["Galactic Tacos 2"] and row["raw_echo"]
    assert _request(language="ko")["shown_wrong_language"]  # English text for a Korean viewer
    group = llm_requests._group([row, _request()])
    assert group["raw_with_non_catalog_title"]["count"] == 1
    assert group["raw_echoing_an_instruction"]["count"] == 1


def test_requests_rows_without_raw_text_give_no_raw_rate() -> None:
    old = _request(raw_text=None)
    old.pop("repairs")
    group = llm_requests._group([llm_requests.score_row(old, REF)])
    assert group["raw_with_non_catalog_title"]["n"] == 0 and group["requests"] == 1


def test_chat_flags_and_titles_are_failures() -> None:
    rag = [
        {"answer": "Heat [#1].", "flags": [], "raw_answer": "Heat.", "raw_correct": True},
        {
            "answer": "Heat [#1].",
            "flags": ["auto_cited"],
            "raw_answer": 'See "Fake Movie 3000".',
            "raw_correct": False,
        },  # fmt: skip
    ]
    closed = [{"answer": "It is like The Matrix."}, {"answer": 'Try "Galactic Tacos".'}]
    checks = chat_facts.title_checks(rag, closed, REF)
    assert checks["retrieval_used_as_written"]["count"] == 1
    assert checks["retrieval_raw"]["count"] == 1 and checks["retrieval_shown"]["count"] == 0
    assert checks["no_retrieval_raw"]["count"] == 1
    assert checks["retrieval_raw_accuracy"]["accuracy"] == 0.5


def test_words_a_reason_that_drops_its_fact_or_lies_fails() -> None:
    from benchmarks import words
    from cinerec.data.types import Movie
    from cinerec.llm.evidence import build_evidence
    from cinerec.llm.facts import FactCatalog

    heat = Movie(6, "Heat", 1995, ("Crime",), director="Michael Mann")
    card = Movie(1, "Collateral", 2004, ("Crime", "Thriller"), director="Michael Mann")
    catalog = {m.movie_id: m for m in (heat, card)}
    row = {
        "type": "reason",
        "language": "en",
        "movie_id": 1,
        "history": [6],
        "cards": [1],
        "gender": None,
        "taste": "",
        "evidence": build_evidence(card, [heat]),
    }

    def score(text: str) -> dict[str, Any]:
        out = words._score(text, row, catalog, FactCatalog(catalog.values()))
        assert out is not None
        return out

    good = score("Directed by Michael Mann, like Heat, which you watched.")
    assert good["specific"] and not good["false_facts"]
    vague = score("A thrilling film you will enjoy.")
    assert not vague["specific"]
    false = score("Collateral is a horror film.")
    assert false["false_facts"] and not false["specific"]
    assert words.page_overlap(["a b c", "a b c"]) == 1.0
    assert words.page_overlap(["a b", "c d"]) == 0.0


def test_words_the_cards_own_keyword_is_not_another_movies_title() -> None:
    from benchmarks import words
    from cinerec.data.types import Movie
    from cinerec.llm.facts import FactCatalog

    heat = Movie(6, "Heat", 1995, ("Crime",))
    ring = Movie(2, "Ring, The", 2002, ("Horror",))
    san_francisco = Movie(3, "San Francisco", 1936, ("Drama", "Musical", "Romance"))
    card = Movie(1, "Vertigo", 1958, ("Mystery", "Thriller"), keywords=("san francisco",))
    catalog = {m.movie_id: m for m in (heat, ring, san_francisco, card)}
    row = {"type": "reason", "language": "en", "movie_id": 1, "history": [6], "cards": [1]}

    def false(text: str) -> list[str]:
        out = words._score(text, row, catalog, FactCatalog(catalog.values()))
        assert out is not None
        return out["false_facts"]

    assert not false("The movie is about San Francisco, a city with a rich history.")
    # other titles, and the keyword cited as a watched movie, are still claims
    assert false("The movie shares its island with The Ring.")
    assert false("It is set in San Francisco, like San Francisco, which you watched.")
