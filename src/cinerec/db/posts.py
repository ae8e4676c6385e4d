"""Curated posts: keyword-only functions, like :mod:`cinerec.db.repository`.

A post is stored under the random id its URL carries, as plain JSON (the domain types live in
:mod:`cinerec.llm.posts`; :mod:`cinerec.services.posts` converts). A failed post is stored too,
with ``post=None``, so its page can show what went wrong. Functions never commit (the caller
owns the transaction) and return frozen records.

Example::

    with Session.begin() as session:
        save_post(session, post_id="a1b2c3", user_id=1, theme="rainy day", language="en",
                  post={"caption": "...", "movies": [...]}, draft={"model": "m"},
                  candidate_ids=[1, 2, 3])
        get_post(session, post_id="a1b2c3").theme
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cinerec.db.tables import PostRow, UserRow
from cinerec.errors import NotFoundError, ValidationError

MAX_POST_ID = 32


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A stored post; ``post`` is None for one the model could not write."""

    id: str
    user_id: int | None
    theme: str
    language: str
    post: dict[str, Any] | None
    draft: dict[str, Any]
    candidate_ids: tuple[int, ...]
    created_at: datetime


def save_post(
    session: Session,
    *,
    post_id: str,
    user_id: int | None,
    theme: str,
    language: str,
    post: dict[str, Any] | None,
    draft: dict[str, Any],
    candidate_ids: Sequence[int],
) -> None:
    """Store a post (or a failed post's report) under ``post_id``.

    Raises:
        ValidationError: an empty or over-long id, or an id already taken.
        NotFoundError: ``user_id`` is given and does not exist.
    """
    if not post_id or len(post_id) > MAX_POST_ID:
        raise ValidationError(f"A post id has 1 to {MAX_POST_ID} characters.")
    if session.get(PostRow, post_id) is not None:
        raise ValidationError(f"There already is a post {post_id}.")
    if user_id is not None and session.get(UserRow, int(user_id)) is None:
        raise NotFoundError(f"User {user_id} does not exist; sign in again to create a profile.")
    session.add(
        PostRow(
            id=post_id,
            user_id=user_id,
            theme=theme,
            language=language,
            post=post,
            draft=draft,
            candidate_ids=[int(i) for i in candidate_ids],
        )
    )
    session.flush()


def get_post(session: Session, *, post_id: str) -> PostRecord | None:
    """The post stored under ``post_id``, or None."""
    if not post_id or len(post_id) > MAX_POST_ID:
        return None
    row = session.get(PostRow, post_id)
    if row is None:
        return None
    return PostRecord(
        id=row.id,
        user_id=row.user_id,
        theme=row.theme,
        language=row.language,
        post=dict(row.post) if row.post is not None else None,
        draft=dict(row.draft or {}),
        candidate_ids=tuple(int(i) for i in row.candidate_ids or ()),
        created_at=row.created_at,
    )
