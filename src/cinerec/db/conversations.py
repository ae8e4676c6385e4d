"""Chat conversations and messages: keyword-only functions, like :mod:`cinerec.db.repository`.

A conversation belongs to one user; every function that reads or writes one takes the
``user_id`` too and treats another user's conversation as missing, so a guessed id reveals
nothing. Functions never commit (the caller owns the transaction) and return frozen records.

Example::

    with Session.begin() as session:
        conversation_id = create_conversation(session, user_id=1, title="Nolan films")
        add_message(session, conversation_id=conversation_id, user_id=1, role="user",
                    content="Who directed Memento?")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cinerec.db.tables import ChatMessageRow, ConversationRow, UserRow, utcnow
from cinerec.errors import NotFoundError, ValidationError

#: Roles a stored message may have.
ROLES: frozenset[str] = frozenset({"user", "assistant"})
MAX_TITLE = 200
MAX_MODEL = 255


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """A conversation; ``summary`` covers the messages with ids up to ``summarized_upto``."""

    id: int
    user_id: int
    title: str
    summary: str
    summarized_upto: int
    created_at: datetime
    updated_at: datetime
    state: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A stored message; answers carry the movie ids they cite and their grounding flags."""

    id: int
    conversation_id: int
    role: str
    content: str
    cited_ids: tuple[int, ...]
    flags: tuple[str, ...]
    model: str
    created_at: datetime


def _conversation(row: ConversationRow) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        summary=row.summary,
        summarized_upto=row.summarized_upto,
        created_at=row.created_at,
        updated_at=row.updated_at,
        state=dict(row.state) if row.state else None,
    )


def _message(row: ChatMessageRow) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        role=row.role,
        content=row.content,
        cited_ids=tuple(int(i) for i in row.cited_ids or ()),
        flags=tuple(str(f) for f in row.flags or ()),
        model=row.model,
        created_at=row.created_at,
    )


def _owned(session: Session, conversation_id: int, user_id: int) -> ConversationRow:
    row = session.get(ConversationRow, int(conversation_id))
    if row is None or row.user_id != int(user_id):
        raise NotFoundError(
            f"Conversation {conversation_id} does not exist for this session; start a new one."
        )
    return row


def create_conversation(session: Session, *, user_id: int, title: str) -> int:
    """Start a conversation for a user and return its id.

    Raises:
        NotFoundError: the user does not exist.
    """
    if session.get(UserRow, int(user_id)) is None:
        raise NotFoundError(f"User {user_id} does not exist; sign in again to create a profile.")
    clean = " ".join(title.split())[:MAX_TITLE] or "…"
    row = ConversationRow(user_id=user_id, title=clean, summary="", summarized_upto=0)
    session.add(row)
    session.flush()
    return row.id


def get_conversation(
    session: Session, *, conversation_id: int, user_id: int
) -> ConversationRecord | None:
    """The user's conversation, or None (also when it belongs to someone else)."""
    row = session.get(ConversationRow, int(conversation_id))
    if row is None or row.user_id != int(user_id):
        return None
    return _conversation(row)


def list_conversations(
    session: Session, *, user_id: int, limit: int = 20
) -> list[ConversationRecord]:
    """A user's conversations, most recently active first."""
    if limit < 1:
        return []
    rows = session.scalars(
        select(ConversationRow)
        .where(ConversationRow.user_id == user_id)
        .order_by(ConversationRow.updated_at.desc(), ConversationRow.id.desc())
        .limit(limit)
    )
    return [_conversation(row) for row in rows]


def add_message(
    session: Session,
    *,
    conversation_id: int,
    user_id: int,
    role: str,
    content: str,
    cited_ids: Sequence[int] = (),
    flags: Sequence[str] = (),
    model: str = "",
) -> int:
    """Append a message to the user's conversation and return its id.

    Raises:
        ValidationError: ``role`` is not ``user`` or ``assistant``.
        NotFoundError: the conversation does not exist for this user.
    """
    if role not in ROLES:
        raise ValidationError(f"Unknown message role {role!r}; use 'user' or 'assistant'.")
    conversation = _owned(session, conversation_id, user_id)
    row = ChatMessageRow(
        conversation_id=conversation.id,
        role=role,
        content=content,
        cited_ids=[int(i) for i in dict.fromkeys(cited_ids)],
        flags=[str(f) for f in dict.fromkeys(flags)],
        model=model[:MAX_MODEL],
    )
    session.add(row)
    conversation.updated_at = utcnow()
    session.flush()
    return row.id


def list_messages(
    session: Session,
    *,
    conversation_id: int,
    user_id: int,
    after_id: int = 0,
    limit: int | None = None,
) -> list[MessageRecord]:
    """Messages of the user's conversation, oldest first.

    Args:
        after_id: Only messages with a larger id (e.g. those not yet summarized).
        limit: Only the newest ``limit`` of them (still returned oldest first).

    Raises:
        NotFoundError: the conversation does not exist for this user.
    """
    _owned(session, conversation_id, user_id)
    stmt = select(ChatMessageRow).where(
        ChatMessageRow.conversation_id == conversation_id, ChatMessageRow.id > after_id
    )
    if limit is not None:
        if limit < 1:
            return []
        newest = stmt.order_by(ChatMessageRow.id.desc()).limit(limit)
        return [_message(row) for row in reversed(list(session.scalars(newest)))]
    return [_message(row) for row in session.scalars(stmt.order_by(ChatMessageRow.id))]


def count_messages(session: Session, *, conversation_id: int, user_id: int) -> int:
    """How many messages the user's conversation has."""
    _owned(session, conversation_id, user_id)
    stmt = select(func.count()).where(ChatMessageRow.conversation_id == conversation_id)
    return int(session.scalar(stmt) or 0)


def update_summary(
    session: Session, *, conversation_id: int, user_id: int, summary: str, summarized_upto: int
) -> None:
    """Replace the rolling summary, which now covers messages up to id ``summarized_upto``.

    Raises:
        ValidationError: ``summarized_upto`` goes backwards.
        NotFoundError: the conversation does not exist for this user.
    """
    row = _owned(session, conversation_id, user_id)
    if summarized_upto < row.summarized_upto:
        raise ValidationError(
            f"The summary already covers messages up to {row.summarized_upto}; it cannot go "
            f"back to {summarized_upto}."
        )
    row.summary = summary
    row.summarized_upto = int(summarized_upto)
    session.flush()


def update_state(
    session: Session, *, conversation_id: int, user_id: int, state: dict[str, Any] | None
) -> None:
    """Replace what the conversation's last turn resolved (JSON-ready, read by follow-ups).

    Raises:
        NotFoundError: the conversation does not exist for this user.
    """
    row = _owned(session, conversation_id, user_id)
    row.state = dict(state) if state else None
    session.flush()


def delete_conversation(session: Session, *, conversation_id: int, user_id: int) -> bool:
    """Delete the user's conversation and its messages; False when there was none."""
    row = session.get(ConversationRow, int(conversation_id))
    if row is None or row.user_id != int(user_id):
        return False
    session.delete(row)
    session.flush()
    session.expire_all()
    return True
