"""The posts page, its card images and POST /api/posts, with a fake model and embedder."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.db.repository import upsert_movies
from cinerec.services import similar
from cinerec.services.platform import Platform
from cinerec.services.postcard import CARD_SIZE
from tests.embeddings.fakes import HashingEmbedder
from tests.llm.fakes import FakeBackend
from tests.llm.post_fakes import PostFake
from tests.web.conftest import open_client

MOVIES = [
    Movie(
        i,
        f"Rain Film {i}",
        1990 + i,
        ("Drama",),
        overview=f"Plot {i} in the rain.",
        description=f"rain rainy day story {i}",
    )  # fmt: skip
    for i in range(1, 9)
]


def _platform(tmp_path: Path, llm: object) -> Platform:
    settings = Settings(
        home=tmp_path / "home",
        cache_dir=tmp_path / "cache",
        data_dir=tmp_path / "no-data",
        embedder="fake-hash",
        llm_backend="none",
    )
    platform = Platform(settings, llm=llm)
    platform.migrate()
    with platform.session() as session:
        upsert_movies(session, movies=MOVIES, popularity={m.movie_id: 100 for m in MOVIES})
    similar.catalog_index(platform, embedder=HashingEmbedder())  # what the page will search
    return platform


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    platform = _platform(tmp_path, PostFake())
    with open_client(platform, profile=True) as c:
        yield c


def test_the_page_shows_a_theme_form(client: TestClient) -> None:
    r = client.get("/posts")
    assert r.status_code == 200
    assert 'name="theme"' in r.text and 'action="/posts"' in r.text
    korean = client.get("/posts?lang=ko")
    assert "테마" in korean.text and "포스트 만들기" in korean.text


def test_writing_a_post_redirects_to_it_with_its_cards(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/posts", data={"theme": "rainy day", "n": "3"}, follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    assert re.fullmatch(r"/posts/[0-9a-f]{12}", url)
    page = client.get(url)
    assert page.status_code == 200 and 'id="post-caption"' in page.text
    cards = re.findall(r'<img src="(/posts/[0-9a-f]{12}/card/\d\.png)"', page.text)
    assert cards == [f"{url}/card/{k}.png" for k in (1, 2, 3)]
    assert str(tmp_path) not in page.text  # no machine paths
    assert page.text.count("Rain Film") >= 3
    image = client.get(cards[0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == CARD_SIZE
    assert client.get(f"{url}/card/9.png").status_code == 404
    assert client.get("/posts/000000000000").status_code == 404


def test_bad_form_input_is_shown_next_to_the_form(client: TestClient) -> None:
    r = client.post("/posts", data={"theme": "   ", "n": "3"})
    assert r.status_code == 422 and "Give a theme" in r.text and 'name="theme"' in r.text
    r = client.post("/posts", data={"theme": "rain", "n": "many"})
    assert r.status_code == 422 and "whole number" in r.text
    r = client.post("/posts", data={"theme": "rain", "n": "3", "lang": "fr"})
    assert r.status_code == 422 and "en or ko" in r.text


def test_the_api_returns_the_post_json_and_card_urls(client: TestClient) -> None:
    r = client.post("/api/posts", json={"theme": "rainy day", "n": 2, "lang": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["post"]["caption"].split("\n")) == 3
    movies = body["post"]["movies"]
    assert [set(m) for m in movies] == [{"id", "title", "one_line_review"}] * 2
    assert all(m["title"] == f"Rain Film {m['id']}" for m in movies)
    assert body["cards"] == [f"/posts/{body['post_id']}/card/{k}.png" for k in (1, 2)]
    assert client.get(body["cards"][1]).status_code == 200
    assert client.post("/api/posts", json={"theme": "rain", "n": 0}).status_code == 422
    assert client.post("/api/posts", json={"theme": " "}).status_code == 422


def test_a_failed_post_is_reported_not_published(tmp_path: Path) -> None:
    platform = _platform(tmp_path, FakeBackend(["junk"] * 6))
    with open_client(platform, profile=True) as client:
        r = client.post("/api/posts", json={"theme": "rainy day", "n": 3})
        assert r.status_code == 503
        body = r.json()
        assert "nothing was published" in body["detail"] and body["failure"]["attempts"] == 3
        assert "post" not in body
        page = client.post("/posts", data={"theme": "rainy day", "n": "3"})
        assert page.status_code == 200 and 'id="post-failure"' in page.text
        assert "/card/" not in page.text and "Rain Film" in page.text  # the candidates


def test_fallback_lines_are_flagged_on_the_page(tmp_path: Path) -> None:
    same = ("Quiet rain and a slow, warm story to sit with.",)
    platform = _platform(tmp_path, PostFake(reviews=same))
    with open_client(platform, profile=True) as client:
        page = client.post("/posts", data={"theme": "rainy day", "n": "3"})
        assert page.status_code == 200 and 'id="post-fallback"' in page.text
        assert page.text.count(same[0]) == 2  # once as a card's line, once in the JSON
        assert "Plot 2 in the rain." in page.text  # the others came from the synopsis


def test_a_post_is_still_there_after_a_restart(tmp_path: Path) -> None:
    platform = _platform(tmp_path, PostFake())
    with open_client(platform, profile=True) as client:
        body = client.post("/api/posts", json={"theme": "rainy day", "n": 2}).json()
        page = client.get(f"/posts/{body['post_id']}").text
    platform.engine.dispose()
    restarted = Platform(platform.settings, llm=FakeBackend([]))  # same database, empty memory
    with open_client(restarted) as client:
        again = client.get(f"/posts/{body['post_id']}")
        assert again.status_code == 200
        for movie in body["post"]["movies"]:
            assert movie["one_line_review"] in again.text and movie["title"] in page
        card = client.get(body["cards"][1])
        assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    restarted.engine.dispose()
