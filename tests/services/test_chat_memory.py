"""Chat memory upkeep: the command line's user, folding older turns, warming the prompt cache."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from cinerec.config import LLMBackendName, Settings
from cinerec.db import conversations as conv
from cinerec.db import repository as repo
from cinerec.db.repository import upsert_movies
from cinerec.errors import NotFoundError
from cinerec.llm.chat.prompt import ChatConfig, ChatTurn
from cinerec.services import chat_memory
from cinerec.services.platform import Platform
from tests.llm.fakes import FakeBackend
from tests.services.test_retrieval import MOVIES, POPULARITY


def _platform(tmp_path: Path, llm: object = None) -> Platform:
    settings = Settings(home=tmp_path / "home", llm_backend=LLMBackendName.NONE)
    platform = Platform(settings, llm=llm)  # type: ignore[arg-type]
    platform.migrate()
    with platform.session() as session:
        upsert_movies(session, movies=MOVIES, popularity=POPULARITY)
    return platform


def test_the_command_line_keeps_one_private_user(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    first = chat_memory.local_user(platform, taste="no horror", watched=[1])
    path = platform.settings.home / chat_memory.LOCAL_SESSION_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = chat_memory.local_user(platform, language="ko", watched=[2])
    assert again == first
    with platform.session() as session:
        user = repo.get_user(session, user_id=first)
        watched = [r.movie_id for r in repo.list_watched(session, user_id=first)]
    assert user is not None and (user.taste, user.language) == ("no horror", "ko")
    assert watched == [1, 2]
    with pytest.raises(NotFoundError):
        chat_memory.local_user(platform, watched=[999])


def test_the_viewer_context_uses_the_template_persona_without_a_stored_one(
    tmp_path: Path,
) -> None:
    platform = _platform(tmp_path)
    user_id = chat_memory.local_user(platform, watched=[1, 2])
    with platform.session() as session:
        viewer = chat_memory.load_viewer(session, user_id=user_id)
        assert "Memento (2000)" in viewer.context.persona
        repo.save_persona(
            session, user_id=user_id, text="Loves puzzles.", model="m", fallback=False
        )
        assert chat_memory.load_viewer(session, user_id=user_id).context.persona == "Loves puzzles."
        with pytest.raises(NotFoundError):
            chat_memory.load_viewer(session, user_id=user_id + 5)


def _conversation(platform: Platform, user_id: int, n: int) -> tuple[int, list]:
    with platform.session() as session:
        cid = conv.create_conversation(session, user_id=user_id, title="t")
        turns = []
        for k in range(n):
            role = "user" if k % 2 == 0 else "assistant"
            cited = (1,) if role == "assistant" else ()
            content = f"question {k}" if role == "user" else f"Memento (2000) [#1] answer {k}"
            mid = conv.add_message(
                session,
                conversation_id=cid,
                user_id=user_id,
                role=role,
                content=content,
                cited_ids=cited,
            )
            turns.append((mid, ChatTurn(role, content, cited)))  # type: ignore[arg-type]
    return cid, turns


def test_folding_moves_the_summary_forward_only(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    user_id = chat_memory.local_user(platform)
    cid, turns = _conversation(platform, user_id, 6)
    config = ChatConfig(recent_min=2, recent_max=4)
    summary, kept = chat_memory.fold_conversation(
        platform,
        user_id=user_id,
        conversation_id=cid,
        summary="",
        turns=turns,
        titles={1: "Memento (2000)"},
        language="en",
        config=config,
        with_model=False,
    )
    assert [t.content for _, t in kept] == ["question 4", "Memento (2000) [#1] answer 5"]
    assert "question 0" in summary and "Memento (2000) [#1]" in summary
    with platform.session() as session:
        stored = chat_memory.load_memory(session, conversation_id=cid, user_id=user_id)
    assert stored.record.summarized_upto == turns[3][0] and len(stored.turns) == 2
    # A late, older fold (another thread) does not move the summary back.
    chat_memory.fold_conversation(
        platform,
        user_id=user_id,
        conversation_id=cid,
        summary="stale",
        turns=turns[:5],
        titles={},
        language="en",
        config=config,
        with_model=False,
    )
    with platform.session() as session:
        record = conv.get_conversation(session, conversation_id=cid, user_id=user_id)
    assert record is not None and record.summary == summary
    short, same = chat_memory.fold_conversation(
        platform,
        user_id=user_id,
        conversation_id=cid,
        summary="s",
        turns=turns[:4],
        titles={},
        language="en",
        config=config,
    )
    assert short == "s" and same == turns[:4]


def test_warm_up_prefills_only_a_backend_that_caches_prefixes(tmp_path: Path) -> None:
    fake = FakeBackend(["x"], caches_prefix=True)
    platform = _platform(tmp_path, fake)
    user_id = chat_memory.local_user(platform, watched=[1])
    cid, _ = _conversation(platform, user_id, 2)
    assert chat_memory.warm_up(platform, user_id=user_id, conversation_id=cid) is True
    deadline = time.time() + 10
    while not fake.calls and time.time() < deadline:
        time.sleep(0.02)
    call = fake.calls[0]
    assert call.max_tokens == 1
    assert [m.role for m in call.messages] == ["system", "user", "assistant"]
    assert "Memento (2000)" in call.messages[0].content  # watched, in the stable prefix
    remote = _platform(tmp_path / "other", FakeBackend(name="llamacpp", caches_prefix=False))
    assert chat_memory.warm_up(remote, user_id=1) is False
