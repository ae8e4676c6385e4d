"""The whole user flow in a real Chromium, against a real server with the real embedded model."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cinerec.config import Settings
from tests.web.servers import CHROMIUM, CHROMIUM_ARGS, cinerec_server, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = Settings().page_size  # cards per page, as the server is configured
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# A tick shown in the watched list: Playwright's default 5 s was too short once in a
# fresh-clone CI run. Not the profile save's model warm-up: measured, a tick during one takes
# 0.03 s at p95 (benchmarks/results/load/tick_latency.md); while the server's first-start jobs
# run, up to 1.3 s there. Which of them (with Chromium beside) took it past 5 s is not known.
TICK_WAIT_MS = 30_000


@pytest.fixture(scope="module")
def server(
    prepared_home: Path, real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("browser-home")
    shutil.copytree(prepared_home, home, dirs_exist_ok=True)
    env = {
        "CINEREC_DATA_DIR": str(real_data_dir),
        "CINEREC_LLM_MODEL": os.environ.get("CINEREC_TEST_MODEL", "qwen2.5-coder-1.5b"),
        "CINEREC_LLM_THREADS": "2",
        "CINEREC_LLM_TIMEOUT_S": "300",
        # These tests read the words; the wait bound is the load benchmarks' (issue 22). With
        # the default 10 s, a warm-up started by the Korean profile save held Qwen 1.5B on 2
        # threads past it in one fresh-clone CI run, and the page showed "reasons unavailable".
        "CINEREC_LLM_PAGE_WAIT_S": "120",
        # The prepared home holds ALS; the default SASRec would train in the background.
        "CINEREC_RECOMMENDER": "als",
    }
    with cinerec_server(home, env) as url:
        yield url


def card_ids(cards: Any) -> list[int]:
    """The movie ids of a card locator's cards, in order."""
    return [int(i) for i in cards.evaluate_all("els => els.map(e => e.dataset.movieId)")]


def pages_without_feedback(browser: Any, server: str, page: Any) -> tuple[list[int], list[int]]:
    """Pages 1 and 2 for a new session with ``page``'s profile and ticks but no feedback,
    through the JSON API (reasons left unwritten)."""
    profile = page.request.get(f"{server}/api/profile").json()
    watched = page.request.get(f"{server}/api/watched").json()
    other = browser.new_context()
    api = other.request
    headers = {"X-CSRF-Token": api.get(f"{server}/api/csrf").json()["csrf_token"]}
    keys = ("name", "age", "gender", "taste", "language")
    fields = {k: profile[k] for k in keys if profile[k] is not None}
    assert api.put(f"{server}/api/profile", data=fields, headers=headers).ok
    for w in watched:
        body = {"movie_id": w["movie"]["id"], "rating": w["rating"]}
        assert api.post(f"{server}/api/watched", data=body, headers=headers).ok
    pages = []
    for more in (False, True):
        r = api.post(
            f"{server}/api/recommendations",
            data={"more": more, "stream_reasons": True},
            headers=headers,
        )
        assert r.ok, r.text()
        pages.append([item["movie"]["id"] for item in r.json()["items"]])
    other.close()
    return pages[0], pages[1]


def test_whole_flow_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    require_chromium()
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 1600})
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(server)

        # 1. Profile, with markup in the taste text that must come back escaped.
        page.fill("input[name=name]", "Mina <b>bold</b>")
        page.fill("input[name=age]", "29")
        page.select_option("select[name=gender]", "female")
        page.fill("input[name=taste]", "slow-burn sci-fi, no horror <script>alert(1)</script>")
        page.click("#save-profile")
        expect(page.locator("input[name=name]")).to_have_value("Mina <b>bold</b>")
        assert page.locator("b", has_text="bold").count() == 0

        # 2. Type-ahead search and ticks.
        for query, rating in (("Matrix", "5"), ("Blade Runner", "4"), ("Alien", "")):
            page.fill("#q", query)
            first = page.locator(".search-results li").first
            expect(first).to_contain_text(query)
            if rating:
                first.locator("select[name=rating]").select_option(rating)
            first.locator("button.tick").click()
            expect(page.locator("#watched")).to_contain_text(query, timeout=TICK_WAIT_MS)
        assert page.locator(".watched-list li").count() == 3

        # 3-4. The ranked cards come at once; reasons stream in, then the persona.
        page.click("#recommend-btn")
        cards = page.locator("#rec-pages .card")
        expect(cards.first).to_be_visible(timeout=60_000)
        assert cards.count() == PAGE
        expect(page.locator("#rec-pages .reason.pending")).to_have_count(0, timeout=420_000)
        expect(page.locator("#persona")).to_be_visible(timeout=420_000)
        assert page.locator("#rec-pages .reason").count() >= PAGE // 2
        first_page_titles = cards.locator(".card-title").all_inner_texts()
        expect(cards.first.locator(".links a")).to_have_attribute("href", re.compile("justwatch"))
        page.screenshot(path=str(SCREENSHOTS / "browser-flow.png"), full_page=True)

        # Feedback: "Not for me" on the first card, "More like this" on the second; each card
        # shows its choice with an Undo, and an undone choice brings the buttons back.
        first_ids = card_ids(cards)
        cards.nth(0).locator("button.feedback-dislike").click()
        expect(cards.nth(0).locator(".feedback[data-choice='dislike']")).to_be_visible()
        cards.nth(1).locator("button.feedback-like").click()
        expect(cards.nth(1).locator(".feedback[data-choice='like']")).to_be_visible()
        cards.nth(0).locator("button.feedback-undo").click()
        expect(cards.nth(0).locator("button.feedback-dislike")).to_be_visible()
        cards.nth(0).locator("button.feedback-dislike").click()
        expect(cards.nth(0).locator(".feedback[data-choice='dislike']")).to_be_visible()
        stored = page.request.get(f"{server}/api/feedback").json()
        assert {(f["movie_id"], f["kind"]) for f in stored} == {
            (first_ids[0], "dislike"),
            (first_ids[1], "like"),
        }
        page.locator("#rec-pages .card").nth(1).screenshot(
            path=str(SCREENSHOTS / "browser-feedback-card.png")
        )

        # "More" appends a second page with no repeats, made with the feedback.
        page.click("#more-btn")
        expect(page.locator(".rec-page[data-page='2'] .card").first).to_be_visible(timeout=60_000)
        expect(page.locator("#rec-pages .reason.pending")).to_have_count(0, timeout=420_000)
        all_titles = page.locator("#rec-pages .card .card-title").all_inner_texts()
        assert len(all_titles) == 2 * PAGE and len(set(all_titles)) == 2 * PAGE
        assert set(first_page_titles) <= set(all_titles)
        second_ids = card_ids(page.locator(".rec-page[data-page='2'] .card"))
        # The same viewer without feedback (another session through the API) gets the same
        # first page and a different second one.
        same_first, plain_second = pages_without_feedback(browser, server, page)
        assert same_first == first_ids
        assert plain_second != second_ids and not set(plain_second) & set(first_ids)

        # 5. Coming back in the same browser keeps everything; a new browser sees nothing of it.
        page.goto(server)
        expect(page.locator(".watched-list li")).to_have_count(3)
        expect(page.locator("#rec-pages .card")).to_have_count(2 * PAGE)
        expect(page.locator("#rec-pages .feedback[data-choice]")).to_have_count(2)
        expect(page.locator("#persona")).to_be_visible()
        assert page.locator("#rec-pages .reason").count() >= PAGE  # stored, not re-written

        # A movie page lists similar movies once the background index is built.
        page.locator("#rec-pages .card-title").first.click()
        deadline = time.monotonic() + 300
        while "being prepared" in page.inner_text("#more-like-this"):
            assert time.monotonic() < deadline, "the catalog index was not built in 300 s"
            time.sleep(5)
            page.reload()
        assert page.locator("#more-like-this li").count() == 8

        other = browser.new_context().new_page()
        other.goto(server)
        assert other.locator(".watched-list li").count() == 0
        assert "Mina" not in other.content()
        browser.close()


def test_korean_page_reasons_hold_no_claim_the_fact_checker_rejects(
    server: str, real_data_dir: Path
) -> None:
    """A Korean viewer's page in Chromium: every shown reason is Korean and the separate fact
    checker (:mod:`cinerec.llm.facts`) rejects none of its claims, checked against the catalog
    records of its card, the ticked movies and the page's other cards."""
    from playwright.sync_api import expect, sync_playwright

    from cinerec.data.catalog import load_catalog
    from cinerec.llm.facts import FactCatalog, check_text

    require_chromium()
    catalog = {m.movie_id: m for m in load_catalog(real_data_dir)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1200, "height": 1600}).new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{server}/?lang=ko")
        page.fill("input[name=name]", "지민")
        page.fill("input[name=age]", "31")
        page.select_option("select[name=gender]", "unspecified")
        page.select_option("select[name=language]", "ko")
        page.fill("input[name=taste]", "범죄 영화와 반전 있는 스릴러를 좋아해요, 공포는 싫어요")
        page.click("#save-profile")
        for query in ("Godfather", "Memento", "Heat"):
            page.fill("#q", query)
            first = page.locator(".search-results li").first
            expect(first).to_contain_text(query)
            first.locator("button.tick").click()
            expect(page.locator("#watched")).to_contain_text(query, timeout=TICK_WAIT_MS)
        page.click("#recommend-btn")
        cards = page.locator("#rec-pages .card")
        expect(cards.first).to_be_visible(timeout=60_000)
        expect(page.locator("#rec-pages .reason.pending")).to_have_count(0, timeout=420_000)
        ids = card_ids(cards)
        reasons = {
            int(el.get_attribute("data-reason-for")): el.inner_text()
            for el in page.locator("#rec-pages .reason").all()
        }
        watched = [
            catalog[w["movie"]["id"]] for w in page.request.get(f"{server}/api/watched").json()
        ]
        page.screenshot(path=str(SCREENSHOTS / "browser-korean-reasons.png"), full_page=True)
        browser.close()
    assert len(watched) == 3
    assert len(reasons) >= PAGE // 2, reasons
    facts = FactCatalog(catalog.values())
    for movie_id, text in reasons.items():
        assert re.search(r"[\uac00-\ud7a3]", text), text
        checked = check_text(
            text,
            subject=catalog[movie_id],
            watched=watched,
            language="ko",
            catalog=facts,
            page=[catalog[i] for i in ids],
        )
        rejected = [(c.claim.kind, c.claim.span, c.why) for c in checked if c.ok is False]
        assert not rejected, (catalog[movie_id].title, text, rejected)
