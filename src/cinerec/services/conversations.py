"""A viewer's stored chat conversations as the chat page and API show them.

The turns themselves are :mod:`cinerec.services.chat`; this module only reads, lists and
deletes what is stored, so that the web routes never touch the database
(``tests/architecture``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cinerec.data.types import Movie
from cinerec.db import conversations as conv
from cinerec.db import repository as repo
from cinerec.db.conversations import ConversationRecord, MessageRecord
from cinerec.errors import NotFoundError
from cinerec.llm.chat.grounding import CITATION
from cinerec.services.platform import Platform

MAX_HISTORY_MESSAGES = 200
"""The most messages of one conversation a page or the API shows."""


@dataclass(frozen=True)
class ChatPage:
    """What the chat page shows: the viewer's conversations, the open one and its messages
    (each ``{id, role, parts, flags}``; an answer's parts link the movies it cites)."""

    conversations: list[ConversationRecord] = field(default_factory=list)
    conversation: ConversationRecord | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)


def answer_parts(text: str, movies: dict[int, Movie]) -> list[dict[str, Any]]:
    """Answer text split into plain parts and citations (rendered as links to the movie)."""
    parts: list[dict[str, Any]] = []
    position = 0
    for match in CITATION.finditer(text):
        if match.start() > position:
            parts.append({"text": text[position : match.start()]})
        movie = movies.get(int(match.group(1)))
        if movie is not None:
            parts.append({"movie": movie})
        position = match.end()
    if position < len(text):
        parts.append({"text": text[position:]})
    return parts


def chat_page(
    platform: Platform, *, user_id: int, conversation_id: int | None = None, limit: int = 30
) -> ChatPage:
    """One read of what the chat page shows.

    Raises:
        NotFoundError: ``conversation_id`` is not one of this viewer's conversations.
    """
    with platform.session() as session:
        listed = conv.list_conversations(session, user_id=user_id, limit=limit)
        if conversation_id is None:
            return ChatPage(conversations=listed)
        record = conv.get_conversation(session, conversation_id=conversation_id, user_id=user_id)
        if record is None:
            raise NotFoundError(f"Conversation {conversation_id} does not exist for this session.")
        stored = conv.list_messages(
            session, conversation_id=record.id, user_id=user_id, limit=MAX_HISTORY_MESSAGES
        )
        movies = repo.get_movies(session, ids=[i for m in stored for i in m.cited_ids])
    messages = [
        {
            "id": m.id,
            "role": m.role,
            "parts": answer_parts(m.content, movies)
            if m.role == "assistant"
            else [{"text": m.content}],
            "flags": m.flags,
        }
        for m in stored
    ]
    return ChatPage(conversations=listed, conversation=record, messages=messages)


def list_conversations(
    platform: Platform, *, user_id: int, limit: int = 100
) -> list[ConversationRecord]:
    """The viewer's conversations, most recently active first."""
    with platform.session() as session:
        return conv.list_conversations(session, user_id=user_id, limit=limit)


def list_messages(platform: Platform, *, conversation_id: int, user_id: int) -> list[MessageRecord]:
    """The messages of one of the viewer's conversations, oldest first (the newest
    :data:`MAX_HISTORY_MESSAGES`).

    Raises:
        NotFoundError: it is not one of this viewer's conversations.
    """
    with platform.session() as session:
        return conv.list_messages(
            session, conversation_id=conversation_id, user_id=user_id, limit=MAX_HISTORY_MESSAGES
        )


def delete_conversation(platform: Platform, *, conversation_id: int, user_id: int) -> None:
    """Delete one of the viewer's conversations with its messages.

    Raises:
        NotFoundError: it is not one of this viewer's conversations.
    """
    with platform.session() as session:
        deleted = conv.delete_conversation(
            session, conversation_id=conversation_id, user_id=user_id
        )
    if not deleted:
        raise NotFoundError(f"Conversation {conversation_id} does not exist for this session.")
