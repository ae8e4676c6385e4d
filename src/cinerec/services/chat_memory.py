"""Chat memory kept in the database: who the viewer is, the summary, the unsummarized turns.

Also the two pieces of upkeep after a turn: folding older turns into the summary
(:func:`fold_conversation`) and warming llama.cpp's prompt cache with the next turn's stable
prefix (:func:`prefill`, and :func:`warm_up` when the chat page opens).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cinerec.data.types import Rated
from cinerec.db import conversations as conv
from cinerec.db import repository as repo
from cinerec.errors import LLMError, NotFoundError
from cinerec.llm.backends.base import LLMBackend
from cinerec.llm.backends.cancel import CancelToken, cancel_kwargs
from cinerec.llm.backends.gate import Priority
from cinerec.llm.chat.prompt import (
    ChatConfig,
    ChatContext,
    ChatMemory,
    ChatTurn,
    split_for_summary,
    summarize_turns,
    system_message,
    template_summary,
    turn_messages,
)
from cinerec.llm.persona import UserProfile, template_persona
from cinerec.services import users
from cinerec.services.platform import Platform

log = logging.getLogger(__name__)

#: Where the command line keeps its session token, under the cinerec home.
LOCAL_SESSION_FILE = "chat-cli-session"


@dataclass(frozen=True)
class Viewer:
    """The stored user, their watched list, and the stable prompt context built from them."""

    user: repo.UserRecord
    history: list[Rated]
    context: ChatContext


@dataclass(frozen=True)
class StoredMemory:
    """A conversation and its messages after the summary, with their ids (oldest first)."""

    record: conv.ConversationRecord
    turns: list[tuple[int, ChatTurn]]

    @property
    def memory(self) -> ChatMemory:
        return ChatMemory(self.record.summary, tuple(t for _, t in self.turns))


def load_viewer(session: Session, *, user_id: int) -> Viewer:
    """Profile, watched movies and persona (the stored one, else the template; no model call).

    Raises:
        NotFoundError: the user does not exist.
    """
    user = repo.get_user(session, user_id=user_id)
    if user is None:
        raise NotFoundError("This session has no profile yet; fill in the profile first.")
    history = repo.list_watched(session, user_id=user_id)
    watched = list(repo.get_movies(session, ids=[r.movie_id for r in history]).values())
    persona_row = repo.latest_persona(session, user_id=user_id)
    profile = UserProfile(
        name=user.name, age=user.age, gender=user.gender, taste=user.taste, language=user.language
    )
    persona = persona_row.text if persona_row else template_persona(profile, watched)
    return Viewer(user, history, ChatContext(profile, persona, tuple(watched)))


def load_memory(session: Session, *, conversation_id: int, user_id: int) -> StoredMemory:
    """The conversation's summary and unsummarized messages.

    Raises:
        NotFoundError: the conversation does not exist for this user.
    """
    record = conv.get_conversation(session, conversation_id=conversation_id, user_id=user_id)
    if record is None:
        raise NotFoundError(
            f"Conversation {conversation_id} does not exist for this session; start a new one."
        )
    stored = conv.list_messages(
        session, conversation_id=record.id, user_id=user_id, after_id=record.summarized_upto
    )
    turns = [(m.id, ChatTurn(m.role, m.content, m.cited_ids)) for m in stored]  # type: ignore[arg-type]
    return StoredMemory(record, turns)


def fold_conversation(
    platform: Platform,
    *,
    user_id: int,
    conversation_id: int,
    summary: str,
    turns: Sequence[tuple[int, ChatTurn]],
    titles: Mapping[int, str],
    language: str,
    allowed_names: Iterable[str] = (),
    config: ChatConfig | None = None,
    with_model: bool = True,
) -> tuple[str, list[tuple[int, ChatTurn]]]:
    """Fold all but the newest ``recent_min`` turns into the summary once there are more than
    ``recent_max``; returns the (new) summary and the turns kept verbatim.

    The summary only moves forward: when another turn already folded these messages, the stored
    one is kept.
    """
    config = config or ChatConfig()
    old, _ = split_for_summary([t for _, t in turns], config)
    if not old:
        return summary, list(turns)
    folded, kept = list(turns[: len(old)]), list(turns[len(old) :])
    names = dict(titles)
    missing = [i for t in old for i in t.cited_ids if i not in names]
    if missing:
        with platform.session() as session:
            names.update(
                {i: m.display_title for i, m in repo.get_movies(session, ids=missing).items()}
            )
    backend = platform.llm if with_model else None
    if backend is None:
        new_summary = template_summary(
            summary, old, names, language=language, max_chars=config.summary_max_chars
        )
    else:
        new_summary = summarize_turns(
            backend,
            summary,
            old,
            names,
            language=language,
            allowed_names=allowed_names,
            config=config,
            timeout_s=platform.settings.llm_timeout_s,
        ).text
    upto = folded[-1][0]
    with platform.session() as session:
        current = conv.get_conversation(session, conversation_id=conversation_id, user_id=user_id)
        if current is not None and current.summarized_upto < upto:
            conv.update_summary(
                session,
                conversation_id=conversation_id,
                user_id=user_id,
                summary=new_summary,
                summarized_upto=upto,
            )
    return new_summary, kept


def prefill(
    backend: LLMBackend | None,
    context: ChatContext,
    memory: ChatMemory,
    language: str,
    config: ChatConfig,
    cancel: CancelToken | None = None,
) -> bool:
    """Evaluate the stable prompt prefix (system + recent turns) so the next turn reuses it.

    Only for a backend that ``caches_prefix`` (the embedded llama.cpp, whose automatic prefix
    cache this fills; a remote server keeps its own). Returns True when the prefix was evaluated
    (False when ``cancel``, given to a backend that ``can_cancel``, stopped it).
    """
    if backend is None or not backend.caches_prefix:
        return False
    messages = [system_message(context, memory.summary, language=language, config=config)]
    messages += turn_messages(memory.recent[-config.recent_max :], config)
    try:
        backend.complete(messages, max_tokens=1, temperature=0.0, **cancel_kwargs(backend, cancel))
    except LLMError as exc:
        log.info("prefill skipped: %s", exc)
        return False
    return True


def warm_up(
    platform: Platform,
    *,
    user_id: int,
    conversation_id: int | None = None,
    config: ChatConfig | None = None,
) -> bool:
    """Prefill a viewer's conversation prefix on a thread (when the chat page opens), so that
    the first question only pays for its own facts.

    At most one warm-up runs at a time, behind every page and chat call (``Priority.WARMUP``);
    False when one is running, the backend keeps no prefix cache here or the platform is
    closing (then a started one also skips its model call).
    """
    backend = platform.llm_at(Priority.WARMUP)
    if backend is None or not backend.caches_prefix or platform.closing:
        return False
    flag = platform.state.chat_warm_up
    if not flag.start():
        return False

    def work() -> None:
        try:
            with platform.session() as session:
                viewer = load_viewer(session, user_id=user_id)
                memory = ChatMemory()
                if conversation_id is not None:
                    memory = load_memory(
                        session, conversation_id=conversation_id, user_id=user_id
                    ).memory
            if platform.closing:  # shutting down: no model call any more
                return
            language = viewer.user.language
            prefill(
                backend, viewer.context, memory, language, config or ChatConfig(),
                cancel=platform.state.shutdown,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - warming is best effort
            log.info("chat warm-up failed: %s", exc)
        finally:
            flag.finish()

    threading.Thread(target=work, name="cinerec-chat-warm", daemon=True).start()
    return True


def local_user(
    platform: Platform,
    *,
    language: str = "en",
    taste: str | None = None,
    watched: Sequence[int] = (),
) -> int:
    """The command line's own user, like a browser session: its token is kept (mode 0600) in
    ``<home>/chat-cli-session``. ``taste`` replaces the profile's taste; ``watched`` ids are
    added to its watched list.

    Raises:
        NotFoundError: a watched id is not in the catalog.
        ValidationError: the taste text is too long.
    """
    path = platform.settings.home / LOCAL_SESSION_FILE
    token = path.read_text(encoding="utf-8").strip() if path.is_file() else None
    user = users.current_user(platform, token)
    if user is None or taste is not None or user.language != language:
        profile = users.parse_profile(
            {
                "name": user.name if user else "cli",
                "taste": taste if taste is not None else (user.taste if user else ""),
                "language": language,
            },
            max_taste_chars=platform.settings.max_taste_chars,
        )
        token, user_id = users.save_profile(platform, token=token, profile=profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token)
    else:
        user_id = user.id
    for movie_id in watched:
        users.mark_watched(platform, user_id=user_id, movie_id=int(movie_id), rating=None)
    return user_id
