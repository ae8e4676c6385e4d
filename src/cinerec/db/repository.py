"""Keyword-only data access functions; the only way the rest of cinerec touches the database.

Every function takes a :class:`~sqlalchemy.orm.Session` first and **never commits**: the
caller owns the transaction, so several calls succeed or fail together::

    Session = make_session_factory(make_engine(url))
    with Session.begin() as session:          # commit on success, rollback on exception
        user_id = create_user(session, token_hash=h, name="Mina", age=None, gender=None,
                              taste="", language="ko")
        set_watched(session, user_id=user_id, movie_id=1, rating=4.5)

Functions flush when they need generated ids. Rows never leave this layer: movies come back
as :class:`~cinerec.data.types.Movie`, watched entries as :class:`~cinerec.data.types.Rated`
and the rest as the frozen records of :mod:`cinerec.db.records`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cinerec.data.types import Rated
from cinerec.db.movies import (
    MAX_SEARCH_LIMIT,
    chunks,
    count_movies,
    get_movie,
    get_movies,
    missing_movie_ids,
    popular_movie_ids,
    search_movies,
    upsert_movies,
)
from cinerec.db.records import FEEDBACK_KINDS, PersonaRecord, RunItem, RunRecord, UserRecord
from cinerec.db.tables import (
    FeedbackRow,
    MovieRow,
    PersonaRow,
    RecommendationItemRow,
    RecommendationRunRow,
    UserRow,
    WatchedRow,
    utcnow,
)
from cinerec.errors import NotFoundError, ValidationError

__all__ = [
    "FEEDBACK_KINDS",
    "MAX_SEARCH_LIMIT",
    "PersonaRecord",
    "RunItem",
    "RunRecord",
    "UserRecord",
    "add_feedback",
    "count_movies",
    "create_user",
    "delete_user",
    "feedback_movie_ids",
    "get_movie",
    "get_movies",
    "get_user",
    "get_user_by_token_hash",
    "latest_feedback",
    "latest_persona",
    "list_runs",
    "list_watched",
    "missing_movie_ids",
    "popular_movie_ids",
    "recommended_movie_ids",
    "remove_feedback",
    "remove_watched",
    "save_persona",
    "save_run",
    "add_run",
    "search_movies",
    "set_watched",
    "update_user_profile",
    "upsert_movies",
]


# Users ---------------------------------------------------------------------------------------


def _user_record(row: UserRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        age=row.age,
        gender=row.gender,
        taste=row.taste,
        language=row.language,
        created_at=row.created_at,
        changed_at=row.updated_at,
    )


def _require_user(session: Session, user_id: int) -> UserRow:
    row = session.get(UserRow, int(user_id))
    if row is None:
        raise NotFoundError(f"User {user_id} does not exist; sign in again to create a profile.")
    return row


def create_user(
    session: Session,
    *,
    token_hash: str,
    name: str,
    age: int | None,
    gender: str | None,
    taste: str,
    language: str,
) -> int:
    """Store a new user and return its id.

    Args:
        token_hash: sha256 hex of the browser's session token (never the raw token).

    Raises:
        ValidationError: a user with this token hash already exists.
    """
    if get_user_by_token_hash(session, token_hash=token_hash) is not None:
        raise ValidationError("This session already has a profile; edit it instead.")
    row = UserRow(
        session_token_hash=token_hash,
        name=name,
        age=age,
        gender=gender,
        taste=taste,
        language=language,
    )
    session.add(row)
    session.flush()
    return row.id


def get_user_by_token_hash(session: Session, *, token_hash: str) -> UserRecord | None:
    """The user whose session token hashes to ``token_hash``, or None."""
    row = session.scalar(select(UserRow).where(UserRow.session_token_hash == token_hash))
    return _user_record(row) if row is not None else None


def set_recovery_code_hash(session: Session, *, user_id: int, code_hash: str) -> None:
    """Store the hash of a user's new recovery code (an older code stops working)."""
    _require_user(session, user_id).recovery_code_hash = code_hash


def rotate_session_by_recovery_hash(
    session: Session, *, code_hash: str, token_hash: str
) -> int | None:
    """Give the user whose recovery code hashes to ``code_hash`` a new session token hash (the
    old session stops working) and return the user's id; None when no user has that code."""
    row = session.scalar(select(UserRow).where(UserRow.recovery_code_hash == code_hash))
    if row is None:
        return None
    row.session_token_hash = token_hash
    return row.id


def get_user(session: Session, *, user_id: int) -> UserRecord | None:
    """A user by id, or None."""
    row = session.get(UserRow, int(user_id))
    return _user_record(row) if row is not None else None


def update_user_profile(
    session: Session,
    *,
    user_id: int,
    name: str,
    age: int | None,
    gender: str | None,
    taste: str,
    language: str,
) -> None:
    """Replace a user's profile fields. Raises NotFoundError for an unknown user."""
    row = _require_user(session, user_id)
    row.name, row.age, row.gender = name, age, gender
    row.taste, row.language = taste, language
    row.updated_at = utcnow()
    session.flush()


def delete_user(session: Session, *, user_id: int) -> bool:
    """Delete a user and, by cascade, everything they own. Returns False if there was none."""
    row = session.get(UserRow, int(user_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    # The database cascaded; objects this session still holds must be reloaded.
    session.expire_all()
    return True


# Watched history -----------------------------------------------------------------------------


def set_watched(session: Session, *, user_id: int, movie_id: int, rating: float | None) -> None:
    """Mark a movie as watched, or change its rating when it already is.

    Raises:
        NotFoundError: the user or the movie does not exist.
        ValidationError: ``rating`` is outside 0.5..5.
    """
    if rating is not None and not 0.5 <= float(rating) <= 5.0:
        raise ValidationError(f"Rating {rating} is out of range; use 0.5 to 5 stars or none.")
    user = _require_user(session, user_id)
    if session.get(MovieRow, int(movie_id)) is None:
        raise NotFoundError(
            f"Movie {movie_id} is not in the catalog; pick a movie from the search results."
        )
    row = session.scalar(
        select(WatchedRow).where(WatchedRow.user_id == user_id, WatchedRow.movie_id == movie_id)
    )
    value = None if rating is None else float(rating)
    if row is None:
        session.add(WatchedRow(user_id=user_id, movie_id=movie_id, rating=value))
    else:
        row.rating = value
    user.updated_at = utcnow()
    session.flush()


def remove_watched(session: Session, *, user_id: int, movie_id: int) -> bool:
    """Remove a movie from a user's history. Returns False if it was not there."""
    row = session.scalar(
        select(WatchedRow).where(WatchedRow.user_id == user_id, WatchedRow.movie_id == movie_id)
    )
    if row is None:
        return False
    session.delete(row)
    user = session.get(UserRow, int(user_id))
    if user is not None:
        user.updated_at = utcnow()
    session.flush()
    return True


def list_watched(session: Session, *, user_id: int) -> list[Rated]:
    """A user's watched movies in the order they were added."""
    stmt = (
        select(WatchedRow.movie_id, WatchedRow.rating)
        .where(WatchedRow.user_id == user_id)
        .order_by(WatchedRow.id)
    )
    return [Rated(movie_id, rating) for movie_id, rating in session.execute(stmt)]


# Personas ------------------------------------------------------------------------------------


def save_persona(session: Session, *, user_id: int, text: str, model: str, fallback: bool) -> int:
    """Store a persona for a user and return its id. Raises NotFoundError for an unknown user."""
    _require_user(session, user_id)
    row = PersonaRow(user_id=user_id, text=text, model=model, fallback=fallback)
    session.add(row)
    session.flush()
    return row.id


def latest_persona(session: Session, *, user_id: int) -> PersonaRecord | None:
    """The most recently saved persona of a user, or None."""
    row = session.scalar(
        select(PersonaRow)
        .where(PersonaRow.user_id == user_id)
        .order_by(PersonaRow.created_at.desc(), PersonaRow.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return PersonaRecord(
        id=row.id,
        user_id=row.user_id,
        text=row.text,
        model=row.model,
        fallback=row.fallback,
        created_at=row.created_at,
    )


# Recommendation runs -------------------------------------------------------------------------


def save_run(
    session: Session,
    *,
    user_id: int,
    page: int,
    retriever: str,
    retriever_version: str,
    llm_model: str,
    fallback: bool,
    error: str | None,
    timings: Mapping[str, float],
    items: Sequence[RunItem],
    reasons_pending: bool = False,
) -> int:
    """Store one recommendation run with its ranked items (``items[0]`` gets rank 1);
    ``reasons_pending`` when its reasons are written later (:func:`finish_run` clears it).

    Raises:
        NotFoundError: the user, or a recommended movie, does not exist.
    """
    _require_user(session, user_id)
    missing = missing_movie_ids(session, ids=[item.movie_id for item in items])
    if missing:
        raise NotFoundError(
            f"Recommended movies {missing[:10]} are not in the catalog; reload the catalog "
            "or retrain the recommender on it."
        )
    run = RecommendationRunRow(
        user_id=user_id,
        page=page,
        retriever=retriever,
        retriever_version=retriever_version,
        llm_model=llm_model,
        fallback=fallback,
        error=error,
        timings={str(k): float(v) for k, v in timings.items()},
        reasons_pending=reasons_pending,
    )
    session.add(run)
    session.flush()
    session.add_all(
        RecommendationItemRow(
            run_id=run.id,
            rank=rank,
            movie_id=item.movie_id,
            base_score=float(item.base_score),
            fit_score=None if item.fit_score is None else float(item.fit_score),
            reason=item.reason,
        )
        for rank, item in enumerate(items, start=1)
    )
    session.flush()
    return run.id


def add_run(session: Session, draft: RunRecord) -> RunRecord:
    """:func:`save_run` for a run built as a record; returns it with its stored ``id`` (the
    draft's own ``id`` is ignored).

    Raises:
        NotFoundError: the user, or a recommended movie, does not exist.
    """
    run_id = save_run(
        session,
        user_id=draft.user_id,
        page=draft.page,
        retriever=draft.retriever,
        retriever_version=draft.retriever_version,
        llm_model=draft.llm_model,
        fallback=draft.fallback,
        error=draft.error,
        timings=draft.timings,
        items=draft.items,
        reasons_pending=draft.reasons_pending,
    )
    return replace(draft, id=run_id)


def set_run_item_reason(
    session: Session, *, run_id: int, movie_id: int, reason: str | None
) -> bool:
    """Store the reason of one movie of a run (written after the ranked list was saved).

    Returns False when the run does not hold that movie.
    """
    row = session.scalars(
        select(RecommendationItemRow).where(
            RecommendationItemRow.run_id == run_id, RecommendationItemRow.movie_id == movie_id
        )
    ).first()
    if row is None:
        return False
    row.reason = reason
    session.flush()
    return True


def finish_run(
    session: Session,
    *,
    run_id: int,
    fallback: bool,
    error: str | None,
    timings: Mapping[str, float],
    llm_model: str | None = None,
) -> None:
    """Record how a run's deferred part (its reasons) ended; ``timings`` are merged in.

    Raises:
        NotFoundError: there is no such run.
    """
    run = session.get(RecommendationRunRow, run_id)
    if run is None:
        raise NotFoundError(f"There is no recommendation run {run_id}.")
    run.fallback = fallback
    run.error = error
    run.reasons_pending = False
    if llm_model is not None:
        run.llm_model = llm_model
    run.timings = {**(run.timings or {}), **{str(k): float(v) for k, v in timings.items()}}
    session.flush()


def get_run(session: Session, *, run_id: int) -> RunRecord | None:
    """One run with its items, or None."""
    run = session.get(RecommendationRunRow, run_id)
    if run is None:
        return None
    return _run_records(session, [run])[0]


def list_runs(session: Session, *, user_id: int, limit: int = 20) -> list[RunRecord]:
    """A user's most recent runs with their items, newest first."""
    if limit < 1:
        return []
    runs = list(
        session.scalars(
            select(RecommendationRunRow)
            .where(RecommendationRunRow.user_id == user_id)
            .order_by(RecommendationRunRow.created_at.desc(), RecommendationRunRow.id.desc())
            .limit(limit)
        )
    )
    return _run_records(session, runs)


def _run_records(session: Session, runs: Sequence[RecommendationRunRow]) -> list[RunRecord]:
    items: dict[int, list[RunItem]] = {run.id: [] for run in runs}
    for chunk in chunks(list(items)):
        stmt = (
            select(RecommendationItemRow)
            .where(RecommendationItemRow.run_id.in_(chunk))
            .order_by(RecommendationItemRow.run_id, RecommendationItemRow.rank)
        )
        for row in session.scalars(stmt):
            item = RunItem(row.movie_id, row.base_score, row.fit_score, row.reason)
            items[row.run_id].append(item)
    return [
        RunRecord(
            id=run.id,
            user_id=run.user_id,
            created_at=run.created_at,
            page=run.page,
            retriever=run.retriever,
            retriever_version=run.retriever_version,
            llm_model=run.llm_model,
            fallback=run.fallback,
            error=run.error,
            timings={str(k): float(v) for k, v in (run.timings or {}).items()},
            items=tuple(items[run.id]),
            reasons_pending=bool(run.reasons_pending),
        )
        for run in runs
    ]


def recommended_movie_ids(session: Session, *, user_id: int) -> set[int]:
    """Every movie ever recommended to a user."""
    stmt = (
        select(RecommendationItemRow.movie_id)
        .join(RecommendationRunRow, RecommendationItemRow.run_id == RecommendationRunRow.id)
        .where(RecommendationRunRow.user_id == user_id)
        .distinct()
    )
    return set(session.scalars(stmt))


# Feedback ------------------------------------------------------------------------------------


def add_feedback(
    session: Session, *, user_id: int, movie_id: int, kind: str, run_id: int | None = None
) -> int:
    """Record feedback about a movie and return its id.

    Raises:
        ValidationError: ``kind`` is not one of :data:`~cinerec.db.records.FEEDBACK_KINDS`.
        NotFoundError: the user, the movie or the run (of this user) does not exist.
    """
    if kind not in FEEDBACK_KINDS:
        raise ValidationError(f"Unknown feedback {kind!r}; use one of {sorted(FEEDBACK_KINDS)}.")
    _require_user(session, user_id)
    if session.get(MovieRow, int(movie_id)) is None:
        raise NotFoundError(f"Movie {movie_id} is not in the catalog; feedback was not saved.")
    if run_id is not None:
        run = session.get(RecommendationRunRow, int(run_id))
        if run is None or run.user_id != user_id:
            raise NotFoundError(f"Recommendation run {run_id} does not exist for this user.")
    row = FeedbackRow(user_id=user_id, movie_id=movie_id, run_id=run_id, kind=kind)
    session.add(row)
    session.flush()
    return row.id


def feedback_movie_ids(
    session: Session, *, user_id: int, kinds: Collection[str] = FEEDBACK_KINDS
) -> set[int]:
    """Movies a user gave any of ``kinds`` as feedback (e.g. to exclude ``not_interested``)."""
    stmt = (
        select(FeedbackRow.movie_id)
        .where(FeedbackRow.user_id == user_id, FeedbackRow.kind.in_(list(kinds)))
        .distinct()
    )
    return set(session.scalars(stmt))


def latest_feedback(
    session: Session, *, user_id: int, kinds: Collection[str] = FEEDBACK_KINDS
) -> dict[int, str]:
    """Per movie, the newest of ``kinds`` this user gave it (movies without any are missing)."""
    stmt = (
        select(FeedbackRow.movie_id, FeedbackRow.kind)
        .where(FeedbackRow.user_id == user_id, FeedbackRow.kind.in_(list(kinds)))
        .order_by(FeedbackRow.created_at, FeedbackRow.id)
    )
    return {int(movie_id): str(kind) for movie_id, kind in session.execute(stmt)}


def remove_feedback(
    session: Session, *, user_id: int, movie_id: int, kinds: Collection[str] = FEEDBACK_KINDS
) -> int:
    """Delete this user's feedback of ``kinds`` about one movie; returns how many rows went."""
    result = session.execute(
        delete(FeedbackRow).where(
            FeedbackRow.user_id == user_id,
            FeedbackRow.movie_id == movie_id,
            FeedbackRow.kind.in_(list(kinds)),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
