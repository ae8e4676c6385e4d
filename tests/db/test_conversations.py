"""Chat conversations and messages through the repository, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cinerec.db import conversations as conv
from cinerec.db import repository as repo
from cinerec.db.tables import ChatMessageRow, ConversationRow, UserRow
from cinerec.errors import NotFoundError, ValidationError

KOREAN = "메멘토 감독의 다른 영화는? 🎬 «기생충», 「살인의 추억」"
HTML = '<img src=x onerror="alert(1)"> &lt;b&gt; & \'single\' "double"\n두 번째 줄'


def _user(session: Session, token: str = "a" * 64) -> int:
    return repo.create_user(
        session, token_hash=token, name="Mina", age=None, gender=None, taste="", language="ko"
    )


def test_conversation_round_trip_keeps_text_ids_and_flags(session: Session) -> None:
    user_id = _user(session)
    cid = conv.create_conversation(session, user_id=user_id, title="  Nolan \n films  " + "x" * 300)
    first = conv.add_message(
        session, conversation_id=cid, user_id=user_id, role="user", content=KOREAN + HTML
    )
    second = conv.add_message(
        session,
        conversation_id=cid,
        user_id=user_id,
        role="assistant",
        content="Memento (2000) [#4226].",
        cited_ids=[4226, 48780, 4226],
        flags=["auto_cited", "auto_cited"],
        model="qwen2.5-coder-1.5b",
    )
    session.commit()
    record = conv.get_conversation(session, conversation_id=cid, user_id=user_id)
    assert record is not None and record.title.startswith("Nolan films x")
    assert len(record.title) == conv.MAX_TITLE and record.summary == ""
    assert record.summarized_upto == 0 and record.created_at.tzinfo is not None
    messages = conv.list_messages(session, conversation_id=cid, user_id=user_id)
    assert [m.id for m in messages] == [first, second]
    assert messages[0].content == KOREAN + HTML and messages[0].role == "user"
    assert messages[1].cited_ids == (4226, 48780) and messages[1].flags == ("auto_cited",)
    assert messages[1].model == "qwen2.5-coder-1.5b"
    assert conv.count_messages(session, conversation_id=cid, user_id=user_id) == 2


def test_newest_messages_and_messages_after_the_summary(session: Session) -> None:
    user_id = _user(session)
    cid = conv.create_conversation(session, user_id=user_id, title="t")
    ids = [
        conv.add_message(session, conversation_id=cid, user_id=user_id, role=role, content=str(k))
        for k, role in enumerate(["user", "assistant"] * 3)
    ]
    session.commit()
    newest = conv.list_messages(session, conversation_id=cid, user_id=user_id, limit=2)
    assert [m.content for m in newest] == ["4", "5"]  # oldest first
    after = conv.list_messages(session, conversation_id=cid, user_id=user_id, after_id=ids[3])
    assert [m.content for m in after] == ["4", "5"]
    assert conv.list_messages(session, conversation_id=cid, user_id=user_id, limit=0) == []

    conv.update_summary(
        session, conversation_id=cid, user_id=user_id, summary=KOREAN, summarized_upto=ids[3]
    )
    session.commit()
    record = conv.get_conversation(session, conversation_id=cid, user_id=user_id)
    assert record is not None and (record.summary, record.summarized_upto) == (KOREAN, ids[3])
    with pytest.raises(ValidationError, match="cannot go back"):
        conv.update_summary(
            session, conversation_id=cid, user_id=user_id, summary="", summarized_upto=ids[1]
        )


def test_conversations_are_private_to_their_user(session: Session) -> None:
    owner, other = _user(session, "a" * 64), _user(session, "b" * 64)
    cid = conv.create_conversation(session, user_id=owner, title="mine")
    session.commit()
    assert conv.get_conversation(session, conversation_id=cid, user_id=other) is None
    with pytest.raises(NotFoundError, match="does not exist for this session"):
        conv.list_messages(session, conversation_id=cid, user_id=other)
    with pytest.raises(NotFoundError):
        conv.add_message(session, conversation_id=cid, user_id=other, role="user", content="x")
    with pytest.raises(NotFoundError):
        conv.update_summary(
            session, conversation_id=cid, user_id=other, summary="x", summarized_upto=1
        )
    assert conv.delete_conversation(session, conversation_id=cid, user_id=other) is False
    assert conv.list_conversations(session, user_id=other) == []
    assert [c.id for c in conv.list_conversations(session, user_id=owner)] == [cid]


def test_bad_input_is_refused(session: Session) -> None:
    user_id = _user(session)
    with pytest.raises(NotFoundError, match="sign in again"):
        conv.create_conversation(session, user_id=user_id + 999, title="x")
    cid = conv.create_conversation(session, user_id=user_id, title="")
    with pytest.raises(ValidationError, match="role"):
        conv.add_message(session, conversation_id=cid, user_id=user_id, role="system", content="x")
    with pytest.raises(NotFoundError):
        conv.add_message(session, conversation_id=cid + 1, user_id=user_id, role="user", content="")


def test_most_recently_active_conversation_comes_first(session: Session) -> None:
    user_id = _user(session)
    older = conv.create_conversation(session, user_id=user_id, title="older")
    newer = conv.create_conversation(session, user_id=user_id, title="newer")
    session.commit()
    assert [c.id for c in conv.list_conversations(session, user_id=user_id)] == [newer, older]
    conv.add_message(session, conversation_id=older, user_id=user_id, role="user", content="hi")
    session.commit()
    assert [c.id for c in conv.list_conversations(session, user_id=user_id)] == [older, newer]
    assert len(conv.list_conversations(session, user_id=user_id, limit=1)) == 1
    assert conv.list_conversations(session, user_id=user_id, limit=0) == []


def _count(session: Session, row: type) -> int:
    return int(session.scalar(select(func.count()).select_from(row)) or 0)


@pytest.mark.parametrize("how", ["conversation", "user"])
def test_deletes_cascade_to_messages(session: Session, how: str) -> None:
    gone, kept = _user(session, "a" * 64), _user(session, "b" * 64)
    for user_id in (gone, kept):
        cid = conv.create_conversation(session, user_id=user_id, title="t")
        conv.add_message(session, conversation_id=cid, user_id=user_id, role="user", content="q")
    session.commit()
    if how == "conversation":
        (target,) = conv.list_conversations(session, user_id=gone)
        assert conv.delete_conversation(session, conversation_id=target.id, user_id=gone)
    else:  # the database itself cascades from the user
        session.execute(delete(UserRow).where(UserRow.id == gone))
    session.commit()
    assert {c.user_id for c in session.scalars(select(ConversationRow))} == (
        {kept} if how == "user" else {kept}
    )
    assert _count(session, ChatMessageRow) == 1
