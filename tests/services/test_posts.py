"""The posts flow on a small SQLite catalog: candidates, prior, validation, files, failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cinerec.config import LLMBackendName, Settings
from cinerec.data.types import Movie
from cinerec.db.repository import upsert_movies
from cinerec.errors import ValidationError
from cinerec.services import posts
from cinerec.services.platform import Platform
from cinerec.services.posts import (
    ThemeConfig,
    make_post,
    save_post,
    theme_candidates,
)
from cinerec.text.lang import GENRES_KO, detect_language
from tests.embeddings.fakes import HashingEmbedder
from tests.llm.fakes import FakeBackend
from tests.llm.post_fakes import PostFake

RAIN = "rain rainy day window storm"


def _movie(i: int, title: str, genres: tuple[str, ...], words: str) -> Movie:
    return Movie(
        i, title, 1990 + i, genres, overview=f"{title} is about {words}.", description=words
    )


MOVIES = [
    _movie(1, "Rain Walk", ("Drama",), RAIN),
    _movie(2, "Storm Window", ("Romance",), RAIN + " love"),
    _movie(3, "Wet Day", ("Comedy",), RAIN + " laughs"),
    _movie(4, "Rain Ghost", ("Horror",), RAIN + " ghost"),
    _movie(5, "Obscure Drizzle", ("Drama",), RAIN + " drizzle"),
    _movie(6, "The Vault Job", ("Crime",), "heist vault crew twist"),
    _movie(7, "Space Farm", ("Sci-Fi",), "space farm tractor"),
    _movie(8, "Quiet Rain", ("Drama",), RAIN + " quiet"),
]
POPULARITY = {1: 300, 2: 250, 3: 200, 4: 220, 5: 1, 6: 500, 7: 400, 8: 150}


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    settings = Settings(
        home=tmp_path / "home",
        cache_dir=tmp_path / "cache",
        data_dir=tmp_path / "no-data",  # no ratings: the prior is popularity only
        llm_backend=LLMBackendName.NONE,
    )
    p = Platform(settings, llm=PostFake())
    p.migrate()
    with p.session() as session:
        upsert_movies(session, movies=MOVIES, popularity=POPULARITY)
    return p


def _post(platform: Platform, theme: str = "rainy day", **kw: object) -> posts.PostOutcome:
    return make_post(platform, theme, embedder=HashingEmbedder(), **kw)  # type: ignore[arg-type]


def test_candidates_fit_the_theme_prefer_known_movies_and_drop_dislikes(
    platform: Platform,
) -> None:
    config = ThemeConfig(shown=8, min_ratings=20, prior_weight=0.2)
    found = theme_candidates(platform, "rainy day", config=config, embedder=HashingEmbedder())
    ids = [c.movie.movie_id for c in found]
    assert set(ids[:5]) == {1, 2, 3, 4, 8}  # the well-known rain movies first
    assert ids.index(5) > 5  # a rain movie, but rated once: only after the well-known ones
    assert [c.score for c in found[:5]] == sorted((c.score for c in found[:5]), reverse=True)
    no_horror = theme_candidates(
        platform, "rainy day, no horror", config=config, embedder=HashingEmbedder()
    )
    assert 4 not in {c.movie.movie_id for c in no_horror}


def test_the_quality_prior_comes_from_the_ratings_when_readable(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert posts.mean_ratings(platform) == {}  # no data dir: popularity only
    other = Platform(platform.settings, llm=PostFake())
    good = {1: 2.0, 2: 2.0, 3: 2.0, 4: 2.0, 5: 2.0, 8: 4.9}
    monkeypatch.setattr(posts, "mean_ratings", lambda p, shrinkage=20.0: good)
    config = ThemeConfig(shown=5, prior_weight=0.9)
    top = theme_candidates(other, "rainy day", config=config, embedder=HashingEmbedder())[0]
    assert top.movie.movie_id == 8


def test_a_post_has_catalog_titles_three_lines_and_distinct_ids(platform: Platform) -> None:
    outcome = _post(platform, n=3)
    assert outcome.ok and outcome.failure is None, outcome.draft.problems
    assert outcome.language == "en"
    post = outcome.post
    assert post is not None and len(post.caption.split("\n")) == 3
    assert len({m.id for m in post.movies}) == 3
    by_id = {m.movie_id: m.title for m in MOVIES}
    assert all(m.title == by_id[m.id] for m in post.movies)
    stats = outcome.stats()
    assert stats["attempts"] == 1 and stats["model"] == "fake-model"


def test_korean_themes_are_written_in_korean(platform: Platform) -> None:
    korean = Platform(platform.settings, llm=PostFake(language="ko"))
    outcome = make_post(korean, "비 오는 날 rain", n=2, embedder=HashingEmbedder())
    assert outcome.ok and outcome.language == "ko" and detect_language("rain") == "en"
    assert "Korean" in korean.llm.calls[0].messages[0].content  # type: ignore[union-attr]
    cards = posts.card_contents(outcome)
    assert all(card.genres and set(card.genres) <= set(GENRES_KO.values()) for card in cards)


@pytest.mark.parametrize(
    ("theme", "n", "lang", "message"),
    [("   ", 5, None, "Give a theme"), ("x" * 201, 5, None, "too long"),
     ("rain", 0, None, "1 to 10"), ("rain", 11, None, "1 to 10"), ("rain", 3, "fr", "en or ko")],
)  # fmt: skip
def test_bad_requests_are_rejected_clearly(
    platform: Platform, theme: str, n: int, lang: str | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_post(platform, theme, n=n, language=lang)


def test_a_failed_post_is_reported_and_never_saved_as_a_post(
    platform: Platform, tmp_path: Path
) -> None:
    failing = Platform(platform.settings, llm=FakeBackend(["junk", "junk", "junk"]))
    outcome = _post(failing)
    assert not outcome.ok and outcome.post is None
    report = outcome.failure
    assert report is not None and report["attempts"] == 3 and report["candidates"]
    written = save_post(outcome, tmp_path / "out")
    assert [p.name for p in written] == [f"{outcome.post_id}.failure.json"]
    assert not list((tmp_path / "out").glob("*.png"))
    assert json.loads(written[0].read_text())["problems"]
    no_model = Platform(platform.settings, llm=None)
    assert "no language model" in _post(no_model).failure["problems"][0]  # type: ignore[index]


def test_save_writes_the_json_and_one_card_per_movie_with_local_posters(
    platform: Platform, tmp_path: Path
) -> None:
    outcome = _post(platform, n=3)
    assert outcome.post is not None
    posters = tmp_path / "posters"
    posters.mkdir()
    first = outcome.post.movies[0].id
    Image.new("RGB", (600, 900), (30, 160, 60)).save(posters / f"{first}.png")
    written = save_post(outcome, tmp_path / "out", poster_dir=posters)
    assert [p.name for p in written] == [
        f"{outcome.post_id}.json",
        *(f"{outcome.post_id}-{k}.png" for k in (1, 2, 3)),
    ]
    data = json.loads(written[0].read_text())
    assert set(data) == {"caption", "movies"}
    assert [set(m) for m in data["movies"]] == [{"id", "title", "one_line_review"}] * 3
    assert all(isinstance(m["title"], str) for m in data["movies"])
    with_poster = np.asarray(Image.open(written[1]))[200, 200]
    without = np.asarray(Image.open(written[2]))[200, 200]
    assert abs(int(with_poster[1]) - 160) < 12 and abs(int(without[1]) - 160) > 12
