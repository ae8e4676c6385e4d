"""Constraints, cascades and value round trips of the table models on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cinerec.data.types import Movie
from cinerec.db import repository as repo
from cinerec.db.tables import (
    FeedbackRow,
    MovieRow,
    PersonaRow,
    RecommendationItemRow,
    RecommendationRunRow,
    UserRow,
    WatchedRow,
)

KOREAN = "봉준호 감독의 블랙 코미디, 가족 🎬 — «기생충»"
HTML = "<script>alert(\"x&y\")</script>\n<b>굵게</b> &amp; 'q'"


def _user(session: Session, token: str = "a" * 64) -> int:
    return repo.create_user(
        session, token_hash=token, name="Mina", age=None, gender=None, taste="", language="ko"
    )


def _count(session: Session, row: type) -> int:
    return int(session.scalar(select(func.count()).select_from(row)) or 0)


def test_duplicate_token_hash_is_rejected_by_the_database(session: Session) -> None:
    _user(session)
    session.commit()
    session.add(UserRow(session_token_hash="a" * 64, name="x", taste="", language="en"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_duplicate_watched_pair_is_rejected_by_the_database(
    session: Session, catalog: dict[int, Movie]
) -> None:
    user_id = _user(session)
    session.add(WatchedRow(user_id=user_id, movie_id=1, rating=4.0))
    session.commit()
    session.add(WatchedRow(user_id=user_id, movie_id=1, rating=2.0))
    with pytest.raises(IntegrityError):
        session.flush()


def test_duplicate_rank_in_a_run_is_rejected(session: Session, catalog: dict[int, Movie]) -> None:
    user_id = _user(session)
    run_id = repo.save_run(
        session,
        user_id=user_id,
        page=1,
        retriever="als",
        retriever_version="v",
        llm_model="m",
        fallback=False,
        error=None,
        timings={},
        items=[repo.RunItem(1, 0.5)],
    )
    session.commit()
    session.add(RecommendationItemRow(run_id=run_id, rank=1, movie_id=2, base_score=0.1))
    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    user_id = _user(session)
    session.add(WatchedRow(user_id=user_id, movie_id=999_999))
    with pytest.raises(IntegrityError):
        session.flush()


def _populate(session: Session, user_id: int) -> int:
    repo.set_watched(session, user_id=user_id, movie_id=1, rating=5.0)
    repo.save_persona(session, user_id=user_id, text="p", model="m", fallback=False)
    run_id = repo.save_run(
        session,
        user_id=user_id,
        page=1,
        retriever="als",
        retriever_version="v",
        llm_model="m",
        fallback=False,
        error=None,
        timings={"retrieve": 0.1},
        items=[repo.RunItem(2, 0.9), repo.RunItem(3, 0.8)],
    )
    repo.add_feedback(session, user_id=user_id, movie_id=2, kind="like", run_id=run_id)
    return run_id


@pytest.mark.parametrize("how", ["repository", "sql"])
def test_deleting_a_user_cascades(session: Session, catalog: dict[int, Movie], how: str) -> None:
    gone, kept = _user(session, "a" * 64), _user(session, "b" * 64)
    _populate(session, gone)
    _populate(session, kept)
    session.commit()
    if how == "repository":
        assert repo.delete_user(session, user_id=gone) is True
        assert repo.delete_user(session, user_id=gone) is False
    else:  # the database itself cascades, not the ORM
        session.execute(delete(UserRow).where(UserRow.id == gone))
    session.commit()
    for row in (WatchedRow, PersonaRow, RecommendationRunRow, FeedbackRow):
        owners = set(session.scalars(select(row.user_id)))  # type: ignore[attr-defined]
        assert owners == {kept}, row.__tablename__
    assert _count(session, RecommendationItemRow) == 2
    assert _count(session, MovieRow) == len(catalog)
    assert repo.list_watched(session, user_id=kept)


def test_deleting_a_run_keeps_feedback_without_it(
    session: Session, catalog: dict[int, Movie]
) -> None:
    user_id = _user(session)
    run_id = _populate(session, user_id)
    session.commit()
    session.execute(delete(RecommendationRunRow).where(RecommendationRunRow.id == run_id))
    session.commit()
    assert session.scalars(select(FeedbackRow.run_id)).all() == [None]
    assert _count(session, RecommendationItemRow) == 0


def test_korean_html_and_json_round_trip(
    session_factory: sessionmaker[Session], catalog: dict[int, Movie]
) -> None:
    with session_factory.begin() as s:
        s.add(
            RecommendationRunRow(
                user_id=_user(s),
                page=1,
                retriever="als",
                retriever_version="버전",
                llm_model="모델",
                fallback=True,
                error=HTML,
                timings={"검색": 0.25, "total": 1.5},
            )
        )
    with session_factory() as s:
        run = s.scalars(select(RecommendationRunRow)).one()
        assert (run.retriever_version, run.llm_model, run.error) == ("버전", "모델", HTML)
        assert run.timings == {"검색": 0.25, "total": 1.5}
        assert run.fallback is True
        movie = s.get(MovieRow, 11)
        assert movie is not None
        assert movie.genres == ["드라마", "Thriller"] and movie.cast == ["송강호"]
        assert movie.title_lower == "기생충 (parasite)"


def test_timestamps_are_utc_aware_with_microseconds(
    session_factory: sessionmaker[Session],
) -> None:
    seoul = timezone(timedelta(hours=9))
    moment = datetime(2024, 5, 1, 18, 30, 15, 123456, tzinfo=seoul)
    with session_factory.begin() as s:
        row = UserRow(session_token_hash="c" * 64, name="t", taste="", language="en")
        row.created_at = moment
        s.add(row)
    with session_factory() as s:
        stored = s.scalars(select(UserRow)).one()
        assert stored.created_at == moment
        assert stored.created_at.tzinfo == UTC
        assert stored.created_at.hour == 9 and stored.created_at.microsecond == 123456
        assert stored.updated_at.tzinfo == UTC
