"""The cards' "More like this" / "Not for me" through the real app: htmx fragments, plain posts
that redirect back, undo, the JSON API, and sessions kept apart."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cinerec.data.types import Rated
from cinerec.services.feedback import PageFeedback
from cinerec.services.platform import Platform
from cinerec.services.recommend import candidate_pool
from cinerec.text.taste import parse_taste
from tests.web.conftest import make_profile, open_client

HTMX = {"HX-Request": "true"}


def first_page(client: TestClient) -> tuple[int, list[int]]:
    """Make a page 1 through the htmx form; its run id and movie ids in card order."""
    r = client.post("/recommend", headers=HTMX)
    assert r.status_code == 200, r.text
    run_id = int(re.search(r'data-run="(\d+)"', r.text).group(1))
    return run_id, [int(m) for m in re.findall(r'class="card" data-movie-id="(\d+)"', r.text)]


def feedback_forms(html: str) -> list[str]:
    return re.findall(r'<div class="feedback".*?</div>', html, flags=re.S)


def test_every_card_has_both_buttons_with_the_csrf_field(client: TestClient) -> None:
    make_profile(client)
    client.post("/api/watched", json={"movie_id": 1})
    run_id, shown = first_page(client)
    page = client.get("/").text
    forms = feedback_forms(page)
    assert len(forms) == len(shown) == 5
    token = client.headers["x-csrf-token"]
    for form, movie_id in zip(forms, shown, strict=True):
        assert 'hx-post="/feedback"' in form and 'action="/feedback"' in form
        assert f'name="csrf_token" value="{token}"' in form
        assert f'name="movie_id" value="{movie_id}"' in form
        assert f'name="run_id" value="{run_id}"' in form
        assert ">More like this<" in form and ">Not for me<" in form
    korean = client.get("/?lang=ko").text
    assert ">이런 영화 더 보기<" in korean and ">내 취향 아님<" in korean


def test_htmx_choice_shows_its_state_and_undo_brings_the_buttons_back(
    client: TestClient,
) -> None:
    make_profile(client)
    client.post("/api/watched", json={"movie_id": 1})
    run_id, shown = first_page(client)
    form = {"movie_id": str(shown[0]), "kind": "dislike", "run_id": str(run_id)}
    r = client.post("/feedback", data=form, headers=HTMX)
    assert r.status_code == 200
    assert 'data-choice="dislike"' in r.text and "Not for me: the next page" in r.text
    assert f'action="/feedback/{shown[0]}/undo"' in r.text and ">Undo<" in r.text
    assert client.get("/api/feedback").json() == [{"movie_id": shown[0], "kind": "dislike"}]
    # A reload shows the choice on that card only.
    page = client.get("/").text
    assert page.count('data-choice="dislike"') == 1
    assert re.search(rf'data-movie-id="{shown[0]}".*?data-choice="dislike"', page, flags=re.S)
    r = client.post(f"/feedback/{shown[0]}/undo", data={"run_id": str(run_id)}, headers=HTMX)
    assert r.status_code == 200 and "data-choice" not in r.text and ">More like this<" in r.text
    assert client.get("/api/feedback").json() == []


def test_plain_posts_redirect_back_to_the_cards(client: TestClient) -> None:
    make_profile(client)
    client.post("/api/watched", json={"movie_id": 1})
    _, shown = first_page(client)
    r = client.post(
        "/feedback", data={"movie_id": str(shown[1]), "kind": "like"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/#recommendations"
    assert client.get("/api/feedback").json() == [{"movie_id": shown[1], "kind": "like"}]
    r = client.post(f"/feedback/{shown[1]}/undo", follow_redirects=False)
    assert r.status_code == 303 and client.get("/api/feedback").json() == []


def test_bad_page_feedback_is_refused(client: TestClient) -> None:
    assert client.post("/feedback", data={"movie_id": "1", "kind": "like"}).status_code == 422
    make_profile(client)
    for data in (
        {"movie_id": "1", "kind": "watched"},  # not a card choice
        {"movie_id": "abc", "kind": "like"},
        {"movie_id": "1", "kind": "like", "run_id": "99999999999"},
    ):
        assert client.post("/feedback", data=data).status_code == 422, data
    assert client.post("/feedback", data={"movie_id": "424242", "kind": "like"}).status_code == 404
    assert client.get("/api/feedback").json() == []


def test_the_more_page_uses_the_choices_at_once(client: TestClient, platform: Platform) -> None:
    make_profile(client)
    client.post("/api/watched", json={"movie_id": 1, "rating": 5})
    run_id, shown = first_page(client)
    for movie_id, kind in ((shown[0], "like"), (shown[1], "dislike")):
        form = {"movie_id": str(movie_id), "kind": kind, "run_id": str(run_id)}
        assert client.post("/feedback", data=form, headers=HTMX).status_code == 200
    r = client.post("/recommend?more=1", headers=HTMX)
    second = [int(m) for m in re.findall(r'class="card" data-movie-id="(\d+)"', r.text)]
    with platform.session() as session:
        expected = candidate_pool(
            platform,
            session,
            history=[Rated(1, 5.0)],
            taste=parse_taste(""),
            exclude=shown,
            n=platform.settings.n_candidates,
            feedback=PageFeedback(liked=(shown[0],), disliked=(shown[1],)),
        )
    assert second == [c.movie.movie_id for c in expected[: len(second)]] and second
    assert not set(second) & set(shown)


def test_api_feedback_like_list_and_undo_per_session(platform: Platform) -> None:
    with open_client(platform, profile=True) as ada, open_client(platform, profile=True) as bob:
        assert ada.post("/api/feedback", json={"movie_id": 3, "kind": "dislike"}).status_code == 200
        assert ada.post("/api/feedback", json={"movie_id": 3, "kind": "like"}).status_code == 200
        assert ada.post("/api/feedback", json={"movie_id": 4, "kind": "dislike"}).status_code == 200
        assert ada.get("/api/feedback").json() == [
            {"movie_id": 3, "kind": "like"},
            {"movie_id": 4, "kind": "dislike"},
        ]
        assert bob.get("/api/feedback").json() == []
        assert bob.delete("/api/feedback/3").json() == []  # Bob cannot undo Ada's choice
        assert ada.delete("/api/feedback/3").json() == [{"movie_id": 4, "kind": "dislike"}]
        assert ada.delete("/api/feedback/3").status_code == 200  # undoing nothing is harmless
        r = ada.post("/api/feedback", json={"movie_id": 3, "kind": "love"})
        assert r.status_code == 422 and isinstance(r.json()["detail"], str)
        assert ada.delete("/api/feedback/0").status_code == 422


def test_openapi_documents_undo_with_the_common_errors(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    undo = paths["/api/feedback/{movie_id}"]["delete"]
    assert {"403", "404", "422", "500", "503"} <= set(undo["responses"])
    (param,) = undo["parameters"]
    assert param["schema"]["minimum"] == 1 and param["schema"]["maximum"] == 2**31 - 1
    assert "get" in paths["/api/feedback"] and "post" in paths["/api/feedback"]
