"""Review summaries on the movie page, the cards, the JSON API and in the reasons prompt."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cinerec.db.review_summaries import (
    AspectRecord,
    ReviewQuote,
    ReviewSummary,
    replace_review_summaries,
)
from cinerec.services.platform import Platform
from cinerec.web.templating import marked_segments
from tests.llm.fakes import FakeBackend
from tests.web.conftest import make_profile

QUOTE = '<script>alert("x")</script> The acting is superb & subtle.'
SUPERB = (QUOTE.index("superb"), QUOTE.index("superb") + len("superb"))


def store(platform: Platform, movie_ids: list[int]) -> None:
    summaries = [
        ReviewSummary(
            movie_id,
            24,
            0.75,
            (
                AspectRecord("acting", 12, 0.9, (ReviewQuote(QUOTE, True, (SUPERB,)),)),
                AspectRecord("pacing", 5, 0.2, (ReviewQuote("Far too slow.", False, ((8, 12),)),)),
                AspectRecord("ending", 3, 0.5),
            ),
        )
        for movie_id in movie_ids
    ]
    with platform.session() as session:
        replace_review_summaries(session, summaries=summaries, source="imdb", model="test")


def test_marked_segments_cut_at_spans_and_clip_bad_ones() -> None:
    assert marked_segments("A superb film", [(2, 8)]) == [
        ("A ", False),
        ("superb", True),
        (" film", False),
    ]
    assert marked_segments("abcdef", [(4, 99), (-3, 2), (1, 3)]) == [
        ("ab", True),
        ("c", True),
        ("d", False),
        ("ef", True),
    ]
    assert marked_segments("abc", []) == [("abc", False)]


def test_movie_page_shows_aspects_verdicts_and_escaped_highlighted_quotes(
    client: TestClient, platform: Platform
) -> None:
    assert "No reviews of this movie" in client.get("/movies/3").text
    store(platform, [3])
    page = client.get("/movies/3").text
    assert (
        'data-aspect="acting"' in page and 'class="aspect criticised" data-aspect="pacing"' in page
    )
    assert "24 IMDb reviews, 75% positive" in page and "12 reviews discuss it" in page
    assert "<mark>superb</mark>" in page and "<mark>slow</mark>" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page and "&amp; subtle" in page
    korean = client.get("/movies/3", params={"lang": "ko"}).text
    assert "리뷰 요약" in korean and "연기" in korean and "혹평" in korean


def test_api_returns_the_summary_or_null_and_404_for_unknown_movies(
    client: TestClient, platform: Platform
) -> None:
    store(platform, [3])
    body = client.get("/api/movies/3/reviews").json()
    assert body["n_reviews"] == 24 and [a["verdict"] for a in body["aspects"]] == [
        "praised",
        "criticised",
        "mixed",
    ]
    quote = body["aspects"][0]["quotes"][0]
    assert quote["text"][slice(*quote["highlights"][0])] == "superb"
    assert client.get("/api/movies/4/reviews").json() is None
    assert client.get("/api/movies/99999/reviews").status_code == 404


def test_cards_carry_the_summary_and_the_reason_prompt_cites_it(
    client: TestClient, platform: Platform, fake_llm: FakeBackend
) -> None:
    make_profile(client)
    client.post("/api/watched", json={"movie_id": 1})
    first = client.post("/api/recommendations", json={"stream_reasons": True}).json()
    ids = [i["movie"]["id"] for i in first["items"]]
    store(platform, ids[:2])
    fake_llm.calls.clear()
    page = client.post("/api/recommendations", json={}).json()  # the same page, new reasons
    with_reviews = [i for i in page["items"] if i["reviews"] is not None]
    assert {i["movie"]["id"] for i in with_reviews} <= set(ids[:2]) and with_reviews
    prompts = [c.messages[-1].content for c in fake_llm.calls if c.schema and "reason" in
               c.schema.get("properties", {})]  # fmt: skip
    reviewed = [p for p in prompts if "IMDb reviewers (24 reviews, 75% positive)" in p]
    assert len(reviewed) == len(with_reviews) and "praise the acting" in reviewed[0]
    assert len(prompts) > len(reviewed)  # the other cards' facts carry no review line
    html = client.get("/").text
    assert html.count('class="reviews compact"') >= len(with_reviews)
    assert "<mark>superb</mark>" in html
