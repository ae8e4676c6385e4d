"""Users, watched lists, personas, runs and feedback through the repository, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cinerec.data.types import Movie, Rated
from cinerec.db import movies as db_movies
from cinerec.db import repository as repo
from cinerec.errors import NotFoundError, ValidationError

KOREAN = "봉준호 감독의 블랙 코미디를 좋아해요 🎬 «기생충», 「살인의 추억」"
HTML = '<img src=x onerror="alert(1)"> &lt;b&gt; & \'single\' "double"\n두 번째 줄'


def _user(session: Session, token: str = "a" * 64, **fields: object) -> int:
    profile: dict[str, object] = {
        "name": "Mina",
        "age": 31,
        "gender": "female",
        "taste": "slow thrillers",
        "language": "ko",
    }
    profile.update(fields)
    return repo.create_user(session, token_hash=token, **profile)  # type: ignore[arg-type]


def _run(session: Session, user_id: int, movie_ids: list[int], **fields: object) -> int:
    values: dict[str, object] = {
        "page": 1,
        "retriever": "als",
        "retriever_version": "sha256:abc",
        "llm_model": "qwen2.5-1.5b",
        "fallback": False,
        "error": None,
        "timings": {"retrieve": 0.01, "rerank": 1.5},
    }
    values.update(fields)
    items = [repo.RunItem(m, 1.0 - k / 10, 0.5, f"reason {m}") for k, m in enumerate(movie_ids)]
    return repo.save_run(session, user_id=user_id, items=items, **values)  # type: ignore[arg-type]


# Users ---------------------------------------------------------------------------------------


def test_create_and_find_user(session: Session) -> None:
    before = datetime.now(UTC)
    user_id = _user(session, name="민아", taste=KOREAN + HTML)
    session.commit()
    user = repo.get_user_by_token_hash(session, token_hash="a" * 64)
    assert user is not None and user.id == user_id
    assert (user.name, user.age, user.gender, user.language) == ("민아", 31, "female", "ko")
    assert user.taste == KOREAN + HTML
    assert before <= user.created_at <= datetime.now(UTC)
    assert user.created_at.tzinfo is not None
    assert repo.get_user(session, user_id=user_id) == user
    assert repo.get_user_by_token_hash(session, token_hash="b" * 64) is None
    assert repo.get_user(session, user_id=user_id + 1000) is None
    assert not hasattr(user, "session_token_hash")


def test_duplicate_token_hash_is_a_validation_error(session: Session) -> None:
    _user(session)
    with pytest.raises(ValidationError, match="already has a profile"):
        _user(session)


def test_update_user_profile(session: Session) -> None:
    user_id = _user(session, age=None, gender=None)
    session.commit()
    old = repo.get_user(session, user_id=user_id)
    assert old is not None and old.age is None and old.gender is None
    repo.update_user_profile(
        session, user_id=user_id, name="Jun", age=40, gender="male", taste="", language="en"
    )
    session.commit()
    new = repo.get_user(session, user_id=user_id)
    assert new is not None
    assert (new.name, new.age, new.gender, new.taste, new.language) == ("Jun", 40, "male", "", "en")
    assert new.created_at == old.created_at and new.changed_at > old.changed_at
    with pytest.raises(NotFoundError, match="does not exist"):
        repo.update_user_profile(
            session, user_id=user_id + 99, name="x", age=None, gender=None, taste="", language="en"
        )


# Watched -------------------------------------------------------------------------------------


def test_watched_list_keeps_order_and_updates_in_place(
    session: Session, catalog: dict[int, Movie]
) -> None:
    user_id, other = _user(session), _user(session, "b" * 64)
    for movie_id, rating in [(5, 4.5), (1, None), (11, 3.0)]:
        repo.set_watched(session, user_id=user_id, movie_id=movie_id, rating=rating)
    repo.set_watched(session, user_id=other, movie_id=2, rating=1.0)
    repo.set_watched(session, user_id=user_id, movie_id=5, rating=2.0)  # re-rate, keeps place
    session.commit()
    assert repo.list_watched(session, user_id=user_id) == [Rated(5, 2.0), Rated(1), Rated(11, 3.0)]
    assert repo.remove_watched(session, user_id=user_id, movie_id=1) is True
    assert repo.remove_watched(session, user_id=user_id, movie_id=1) is False
    session.commit()
    assert repo.list_watched(session, user_id=user_id) == [Rated(5, 2.0), Rated(11, 3.0)]
    assert repo.list_watched(session, user_id=other) == [Rated(2, 1.0)]
    assert repo.list_watched(session, user_id=12345) == []


def test_watched_changes_mark_the_user_changed(session: Session, catalog: dict[int, Movie]) -> None:
    user_id = _user(session)
    session.commit()
    stamps = [repo.get_user(session, user_id=user_id).changed_at]  # type: ignore[union-attr]
    repo.set_watched(session, user_id=user_id, movie_id=1, rating=None)
    session.commit()
    stamps.append(repo.get_user(session, user_id=user_id).changed_at)  # type: ignore[union-attr]
    repo.remove_watched(session, user_id=user_id, movie_id=1)
    session.commit()
    stamps.append(repo.get_user(session, user_id=user_id).changed_at)  # type: ignore[union-attr]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3


def test_unknown_movie_or_user_in_watched_raises_not_found(
    session: Session, catalog: dict[int, Movie]
) -> None:
    user_id = _user(session)
    with pytest.raises(NotFoundError, match="Movie 424242 is not in the catalog"):
        repo.set_watched(session, user_id=user_id, movie_id=424242, rating=4.0)
    with pytest.raises(NotFoundError, match="User"):
        repo.set_watched(session, user_id=user_id + 50, movie_id=1, rating=4.0)
    assert repo.list_watched(session, user_id=user_id) == []


@pytest.mark.parametrize("rating", [0.0, 5.5, -1.0])
def test_out_of_range_rating_is_rejected(
    session: Session, catalog: dict[int, Movie], rating: float
) -> None:
    user_id = _user(session)
    with pytest.raises(ValidationError, match="out of range"):
        repo.set_watched(session, user_id=user_id, movie_id=1, rating=rating)


# Personas ------------------------------------------------------------------------------------


def test_latest_persona(session: Session) -> None:
    user_id = _user(session)
    assert repo.latest_persona(session, user_id=user_id) is None
    repo.save_persona(session, user_id=user_id, text="first", model="m1", fallback=True)
    text = KOREAN + HTML
    second = repo.save_persona(session, user_id=user_id, text=text, model="m2", fallback=False)
    session.commit()
    persona = repo.latest_persona(session, user_id=user_id)
    assert persona is not None
    assert (persona.id, persona.text, persona.model, persona.fallback) == (
        second,
        KOREAN + HTML,
        "m2",
        False,
    )
    assert persona.user_id == user_id and persona.created_at.tzinfo is not None
    with pytest.raises(NotFoundError):
        repo.save_persona(session, user_id=user_id + 7, text="x", model="m", fallback=False)


# Runs ----------------------------------------------------------------------------------------


def test_save_and_list_runs(session: Session, catalog: dict[int, Movie]) -> None:
    user_id, other = _user(session), _user(session, "b" * 64)
    first = _run(session, user_id, [1, 2, 3])
    second = _run(session, user_id, [11, 5], page=2, fallback=True, error=HTML)
    _run(session, other, [4])
    session.commit()
    runs = repo.list_runs(session, user_id=user_id)
    assert [r.id for r in runs] == [second, first]  # newest first
    newest = runs[0]
    assert (newest.page, newest.fallback, newest.error) == (2, True, HTML)
    assert (newest.retriever, newest.retriever_version, newest.llm_model) == (
        "als",
        "sha256:abc",
        "qwen2.5-1.5b",
    )
    assert newest.timings == {"retrieve": 0.01, "rerank": 1.5}
    assert newest.items == (
        repo.RunItem(11, 1.0, 0.5, "reason 11"),
        repo.RunItem(5, 0.9, 0.5, "reason 5"),
    )
    assert [i.movie_id for i in runs[1].items] == [1, 2, 3]
    assert [r.id for r in repo.list_runs(session, user_id=user_id, limit=1)] == [second]
    assert repo.recommended_movie_ids(session, user_id=user_id) == {1, 2, 3, 5, 11}
    assert repo.recommended_movie_ids(session, user_id=other) == {4}


def test_run_items_may_lack_llm_fields(session: Session, catalog: dict[int, Movie]) -> None:
    user_id = _user(session)
    repo.save_run(
        session,
        user_id=user_id,
        page=1,
        retriever="popularity",
        retriever_version="",
        llm_model="",
        fallback=True,
        error="LLM timed out",
        timings={},
        items=[repo.RunItem(7, 3.0), repo.RunItem(8, 2.0, None, KOREAN)],
    )
    (run,) = repo.list_runs(session, user_id=user_id)
    assert run.items == (repo.RunItem(7, 3.0, None, None), repo.RunItem(8, 2.0, None, KOREAN))
    assert run.timings == {}


def test_a_run_built_as_a_record_is_stored_as_it_is(
    session: Session, catalog: dict[int, Movie]
) -> None:
    draft = repo.RunRecord(
        id=0,
        user_id=_user(session),
        created_at=datetime.now(UTC),
        page=2,
        retriever="als:1",
        retriever_version="1",
        llm_model="qwen2.5-1.5b",
        fallback=False,
        error=None,
        timings={"rank": 0.5},
        items=(repo.RunItem(7, 0.9, 0.4), repo.RunItem(8, 0.8)),
        reasons_pending=True,
    )
    run = repo.add_run(session, draft)
    stored = repo.get_run(session, run_id=run.id)
    assert run.id > 0 and run == replace(draft, id=run.id)
    assert stored is not None and replace(stored, created_at=draft.created_at) == run


def test_run_with_unknown_movie_raises_not_found(
    session: Session, catalog: dict[int, Movie]
) -> None:
    user_id = _user(session)
    with pytest.raises(NotFoundError, match=r"\[424242\]"):
        _run(session, user_id, [1, 424242])
    assert repo.list_runs(session, user_id=user_id) == []


# Feedback ------------------------------------------------------------------------------------


def test_feedback(session: Session, catalog: dict[int, Movie]) -> None:
    user_id, other = _user(session), _user(session, "b" * 64)
    run_id = _run(session, user_id, [1, 2])
    ids = [
        repo.add_feedback(session, user_id=user_id, movie_id=1, kind="like", run_id=run_id),
        repo.add_feedback(session, user_id=user_id, movie_id=2, kind="not_interested"),
        repo.add_feedback(session, user_id=user_id, movie_id=3, kind="dislike"),
    ]
    assert len(set(ids)) == 3
    assert repo.feedback_movie_ids(session, user_id=user_id) == {1, 2, 3}
    assert repo.feedback_movie_ids(session, user_id=user_id, kinds={"not_interested"}) == {2}
    assert repo.feedback_movie_ids(session, user_id=other) == set()
    with pytest.raises(ValidationError, match="Unknown feedback 'love'"):
        repo.add_feedback(session, user_id=user_id, movie_id=1, kind="love")
    with pytest.raises(NotFoundError, match="Movie 424242"):
        repo.add_feedback(session, user_id=user_id, movie_id=424242, kind="like")
    with pytest.raises(NotFoundError, match="run"):
        repo.add_feedback(session, user_id=other, movie_id=1, kind="like", run_id=run_id)


def test_latest_feedback_and_removing_it(session: Session, catalog: dict[int, Movie]) -> None:
    user_id, other = _user(session), _user(session, "b" * 64)
    repo.add_feedback(session, user_id=user_id, movie_id=1, kind="dislike")
    repo.add_feedback(session, user_id=user_id, movie_id=1, kind="like")  # newer wins
    repo.add_feedback(session, user_id=user_id, movie_id=2, kind="watched")
    repo.add_feedback(session, user_id=other, movie_id=3, kind="dislike")
    choices = {"like", "dislike"}
    assert repo.latest_feedback(session, user_id=user_id, kinds=choices) == {1: "like"}
    assert repo.latest_feedback(session, user_id=user_id) == {1: "like", 2: "watched"}
    assert repo.remove_feedback(session, user_id=user_id, movie_id=1, kinds=choices) == 2
    assert repo.remove_feedback(session, user_id=user_id, movie_id=3, kinds=choices) == 0
    assert repo.latest_feedback(session, user_id=user_id) == {2: "watched"}
    assert repo.latest_feedback(session, user_id=other) == {3: "dislike"}


# Transactions --------------------------------------------------------------------------------


def test_failed_transaction_leaves_committed_data_intact(
    session_factory: sessionmaker[Session], catalog: dict[int, Movie]
) -> None:
    with session_factory.begin() as s:
        user_id = _user(s)
        repo.set_watched(s, user_id=user_id, movie_id=1, rating=5.0)
    with pytest.raises(NotFoundError):
        with session_factory.begin() as s:  # rolled back as a whole
            repo.update_user_profile(
                s, user_id=user_id, name="changed", age=None, gender=None, taste="", language="en"
            )
            repo.set_watched(s, user_id=user_id, movie_id=2, rating=1.0)
            repo.remove_watched(s, user_id=user_id, movie_id=1)
            repo.upsert_movies(s, movies=[Movie(1, "Overwritten")])
            repo.set_watched(s, user_id=user_id, movie_id=424242, rating=1.0)
    with session_factory() as s:
        user = repo.get_user(s, user_id=user_id)
        assert user is not None and user.name == "Mina"
        assert repo.list_watched(s, user_id=user_id) == [Rated(1, 5.0)]
        assert repo.get_movie(s, movie_id=1) == catalog[1]


def test_generic_upsert_path(
    session: Session, catalog: dict[int, Movie], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The select-then-insert/update path used by backends without a native upsert.
    monkeypatch.setattr(db_movies, "_NATIVE_UPSERT", frozenset())
    assert repo.upsert_movies(session, movies=[Movie(1, "Heat!"), Movie(500, "Fresh")]) == 2
    assert repo.get_movie(session, movie_id=1) == Movie(1, "Heat!")
    assert repo.popular_movie_ids(session, limit=1) == [1]  # popularity kept
    repo.upsert_movies(session, movies=[Movie(500, "Fresh")], popularity={500: 10**6})
    assert repo.popular_movie_ids(session, limit=1) == [500]
    assert repo.count_movies(session) == len(catalog) + 1
