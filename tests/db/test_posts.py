"""Posts in the database: stored, read back, owned by a user, and still there after a restart
(a new Platform on the same database), on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.db import repository as repo
from cinerec.db.posts import get_post, save_post
from cinerec.errors import NotFoundError, ValidationError
from cinerec.llm.posts.compose import Post, PostDraft, PostMovie
from cinerec.services.platform import Platform
from cinerec.services.posts import PostOutcome, post_card, store_post, stored_post
from tests.db.conftest import KOREAN


def _user(session_factory: sessionmaker[Session]) -> int:
    with session_factory.begin() as s:
        return repo.create_user(
            s, token_hash="a" * 64, name="Mina", age=None, gender=None, taste="", language="ko"
        )


def test_a_post_is_stored_and_read_back(
    session_factory: sessionmaker[Session], catalog: dict[int, Movie]
) -> None:
    user_id = _user(session_factory)
    post = {
        "caption": f"{KOREAN}\nb\nc",
        "movies": [{"id": 11, "title": "x", "one_line_review": "y"}],
    }
    with session_factory.begin() as s:
        save_post(
            s,
            post_id="abc123",
            user_id=user_id,
            theme="비 오는 날",
            language="ko",
            post=post,
            draft={"model": "m", "attempts": 1, "problems": []},
            candidate_ids=[11, 1],
        )
    with session_factory() as s:
        found = get_post(s, post_id="abc123")
        assert found is not None and found.post == post and found.theme == "비 오는 날"
        assert found.candidate_ids == (11, 1) and found.user_id == user_id
        assert get_post(s, post_id="nope") is None and get_post(s, post_id="x" * 99) is None
    with session_factory.begin() as s, pytest.raises(ValidationError, match="already"):
        save_post(
            s, post_id="abc123", user_id=None, theme="t", language="en", post=None, draft={},
            candidate_ids=[],
        )  # fmt: skip
    with session_factory.begin() as s, pytest.raises(NotFoundError):
        save_post(
            s, post_id="other", user_id=999_999, theme="t", language="en", post=None, draft={},
            candidate_ids=[],
        )  # fmt: skip
    with session_factory.begin() as s:  # deleting the user deletes their posts
        repo.delete_user(s, user_id=user_id)
    with session_factory() as s:
        assert get_post(s, post_id="abc123") is None


def _outcome(catalog: dict[int, Movie]) -> PostOutcome:
    heat, parasite = catalog[1], catalog[11]
    post = Post(
        caption="Rain on the window.\nTwo films for it.\nStay in.",
        movies=[
            PostMovie(id=1, title=heat.title, one_line_review="A long, cool night of a heist."),
            PostMovie(id=11, title=parasite.title, one_line_review="한 지붕 아래의 두 가족."),
        ],
    )
    draft = PostDraft(post, (), "fake-model", attempts=2, review_calls=3, elapsed_s=1.5,
                      notes=("one line from the synopsis",))  # fmt: skip
    return PostOutcome(
        post_id="0123456789ab",
        theme="rainy day",
        language="en",
        post=post,
        movies={1: heat, 11: parasite, 5: catalog[5]},
        draft=draft,
        candidate_ids=(1, 11, 5),
    )


def test_a_post_survives_a_restart(
    engine: Engine,
    session_factory: sessionmaker[Session],
    catalog: dict[int, Movie],
    tmp_path: Path,
) -> None:
    settings = Settings(
        home=tmp_path, database_url=engine.url.render_as_string(hide_password=False)
    )
    outcome = _outcome(catalog)
    first = Platform(settings, llm=None)
    store_post(first, outcome, user_id=_user(session_factory))
    first.engine.dispose()

    again = Platform(settings, llm=None)  # a new process: nothing kept in memory
    try:
        back = stored_post(again, outcome.post_id)
        assert back.post == outcome.post and back.theme == "rainy day"
        assert back.candidate_ids == (1, 11, 5) and set(back.movies) == {1, 11, 5}
        assert back.draft.model == "fake-model" and back.draft.attempts == 2
        assert back.draft.notes == ("one line from the synopsis",)
        assert back.stats() == outcome.stats()
        assert post_card(again, outcome.post_id, 2)[:8] == b"\x89PNG\r\n\x1a\n"
        with pytest.raises(NotFoundError):
            post_card(again, outcome.post_id, 3)
        with pytest.raises(NotFoundError):
            stored_post(again, "ffffffffffff")
    finally:
        again.engine.dispose()


def test_a_failed_post_is_stored_as_its_report(
    engine: Engine,
    session_factory: sessionmaker[Session],
    catalog: dict[int, Movie],
    tmp_path: Path,
) -> None:
    settings = Settings(
        home=tmp_path, database_url=engine.url.render_as_string(hide_password=False)
    )
    draft = PostDraft(None, ("caption is not three lines",), "fake-model", attempts=3)
    failed = PostOutcome("badbadbadbad", "rain", "en", None, {1: catalog[1]}, draft, (1,))
    platform = Platform(settings, llm=None)
    try:
        store_post(platform, failed)
        back = stored_post(platform, "badbadbadbad")
        assert back.post is None and back.failure == failed.failure
        with pytest.raises(NotFoundError):
            post_card(platform, "badbadbadbad", 1)
    finally:
        platform.engine.dispose()
