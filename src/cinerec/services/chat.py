"""One chat turn: load the conversation, retrieve, build the prompt, stream a grounded answer.

A turn has two halves so that the web layer can refuse bad input with a normal error before it
starts a stream: :func:`start_turn` validates the message, loads the viewer, the conversation
memory and the catalog facts, stores the question and builds the prompt; :func:`run_turn` streams
the answer as :class:`ChatEvent` s (``meta``, ``token`` ... ``done``), grounds it, stores it, and
then keeps the memory bounded (older turns folded into the summary) and warms the model's prompt
cache for the next turn. :func:`chat_turn` does both and returns the final answer.

Recommendation requests ("something like Inception but lighter", "볼만한 영화 추천해줘") take
their candidates from the same pool as the main page (:func:`candidate_pool`: the trained
recommender on the viewer's watched list, re-weighted by taste), fused with what retrieval finds
for the request; the model writes the answer over those facts, citing ids.

Example:
    >>> answer = chat_turn(platform, user_id=1, message="Who directed Memento?")  # doctest: +SKIP
    >>> answer.text, answer.cited_ids  # doctest: +SKIP
    ('Memento (2000) [#4226] was directed by Christopher Nolan.', (4226,))
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cinerec.data.types import Movie
from cinerec.db import conversations as conv
from cinerec.db import repository as repo
from cinerec.errors import LLMError, ValidationError
from cinerec.llm.backends.base import LLMBackend
from cinerec.llm.backends.cancel import DEADLINE, Cancelled, cancel_kwargs
from cinerec.llm.backends.cancel import CancelToken as CancelToken  # for the web layer
from cinerec.llm.backends.gate import Priority
from cinerec.llm.chat.grounding import CITATION, AnswerGrounder, add_missing_citations, names_of
from cinerec.llm.chat.phrase import (
    answer_of,
    check_phrasing,
    cited_schema,
    lead_schema,
    phrase_messages,
)
from cinerec.llm.chat.prompt import (
    ChatConfig,
    ChatContext,
    ChatMemory,
    ChatPrompt,
    ChatTurn,
    Fact,
    StreamTimer,
    build_chat_prompt,
    fact_line,
    facts_answer,
    token_counter,
)
from cinerec.llm.grounding import sanitize_user_text
from cinerec.llm.persona import TEMPLATE_MODEL
from cinerec.services.chat_answers import PlannedAnswer, plan_answer
from cinerec.services.chat_facts import Intent, detect_intent, select_facts
from cinerec.services.chat_memory import fold_conversation, load_memory, load_viewer, prefill
from cinerec.services.chat_understand import ChatState, understand
from cinerec.services.platform import Platform
from cinerec.services.retrieval import CatalogRetriever, catalog_retriever
from cinerec.services.reviews import review_notes
from cinerec.text.lang import detect_language

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
#: Extra facts for a movie (e.g. a review aspect summary), looked up by id.
NoteSource = Callable[[Sequence[int]], Mapping[int, str]]


@dataclass(frozen=True, slots=True)
class ChatServiceConfig:
    """How the service runs a turn.

    Attributes:
        chat: Prompt and memory sizes.
        n_retrieve: Movies retrieved per question (``chat.max_facts`` of them reach the model).
        pool: Recommendation candidates taken from the main page's pool.
        summarize_with_model: Fold older turns with the model (else the template).
        prefill: After a turn, evaluate the next turn's stable prompt prefix so that its first
            token comes sooner (llama.cpp reuses the longest common prefix).
        background_upkeep: Run summary and prefill on a thread (False: before returning).
        use_embeddings: Use description embeddings when their index is built.
        lead_comparisons: A comparison's phrasing starts with the winner's title (and, for
            "more ratings", the verdict and the winner's count), and a list's phrasing with
            "Besides X," when the draft has it, forced by the grammar (the model then cannot
            make the other movie the subject of the verdict, nor drop what the list leaves out);
            the answer is flagged ``forced_lead``.
        cite_lists: A list's phrasing names every listed movie's citation, whole and in the
            draft's order (:func:`cinerec.llm.chat.phrase.cited_schema`), flagged
            ``forced_citations``.
    """

    chat: ChatConfig = field(default_factory=ChatConfig)
    n_retrieve: int = 8
    pool: int = 30
    summarize_with_model: bool = True
    prefill: bool = True
    background_upkeep: bool = True
    use_embeddings: bool = True
    lead_comparisons: bool = True
    cite_lists: bool = True


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One streamed event: ``meta`` (before the answer), ``token`` (checked text), ``done``."""

    kind: Literal["meta", "token", "done"]
    data: dict[str, Any]


@dataclass(frozen=True)
class ChatAnswer:
    """The outcome of one turn."""

    conversation_id: int
    message_id: int
    text: str
    cited_ids: tuple[int, ...]
    cited: tuple[Movie, ...]
    retrieved_ids: tuple[int, ...]
    flags: tuple[str, ...]
    fallback: bool
    intent: Intent
    language: str
    model: str
    prompt_tokens: int
    timings: dict[str, float]
    raw_text: str = ""  # the model's output as it came, before grounding (not in public())
    kind: str = "open"  # what the question asked: fact, list, compare, unknown or open

    def public(self) -> dict[str, Any]:
        """JSON-ready fields (the ``done`` event and the API response)."""
        return {
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "answer": self.text,
            "cited_ids": list(self.cited_ids),
            "cited": [
                {"id": m.movie_id, "title": m.title, "year": m.year, "url": f"/movies/{m.movie_id}"}
                for m in self.cited
            ],
            "retrieved_ids": list(self.retrieved_ids),
            "flags": list(self.flags),
            "fallback": self.fallback,
            "intent": self.intent,
            "kind": self.kind,
            "language": self.language,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass
class TurnState:
    """Everything :func:`start_turn` prepared for :func:`run_turn`."""

    user_id: int
    user_name: str
    conversation_id: int
    question: str
    language: str
    intent: Intent
    context: ChatContext
    unsummarized: list[tuple[int, ChatTurn]]
    summary: str
    facts: list[Fact]
    known: dict[int, Movie]  # what the answer may name and cite
    prompt: ChatPrompt
    config: ChatServiceConfig
    started: float
    timings: dict[str, float] = field(default_factory=dict)
    result: ChatAnswer | None = None
    planned: PlannedAnswer | None = None  # resolved in code: facts and a template answer


def _validate(message: str) -> str:
    text = sanitize_user_text(message or "", MAX_MESSAGE_CHARS * 2)
    if not text:
        raise ValidationError("Type a question about movies first.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValidationError(
            f"Your message is {len(message):,} characters long; keep it under "
            f"{MAX_MESSAGE_CHARS:,} characters."
        )
    return text


def start_turn(
    platform: Platform,
    *,
    user_id: int,
    message: str,
    conversation_id: int | None = None,
    config: ChatServiceConfig | None = None,
    notes: NoteSource | None = None,
) -> TurnState:
    """Validate, load, retrieve, store the question and build the prompt (no model call).

    Raises:
        ValidationError: empty or over-long message.
        NotFoundError: unknown user, or a conversation that is not this user's.
        DataError: the catalog is empty.
    """
    config = config or ChatServiceConfig()
    started = time.perf_counter()
    question = _validate(message)
    # Writes are short transactions of their own: planning may build the title index (seconds on
    # a first question), and on SQLite a write transaction held meanwhile locks out other writers.
    with platform.session() as session:
        viewer = load_viewer(session, user_id=user_id)
        if conversation_id is None:
            conversation_id = conv.create_conversation(
                session, user_id=user_id, title=_conversation_title(question)
            )
    with platform.session() as session:
        stored = load_memory(session, conversation_id=conversation_id, user_id=user_id)
        recent = [t for _, t in stored.turns]
        context_ids = [i for t in reversed(recent) if t.role == "assistant" for i in t.cited_ids]
        intent = detect_intent(question)
        language = detect_language(question, viewer.user.language)
        t = time.perf_counter()
        planned = None
        if intent != "recommend":
            planned = _plan(platform, session, question, language, stored.record.state)
    if planned is not None:
        with platform.session() as session:
            user_msg_id = conv.add_message(
                session,
                conversation_id=conversation_id,
                user_id=user_id,
                role="user",
                content=question,
            )
    if planned is not None:
        return _planned_state(
            platform,
            planned,
            user_id=user_id,
            user_name=viewer.user.name,
            conversation_id=conversation_id,
            question=question,
            language=language,
            context=viewer.context,
            unsummarized=[*stored.turns, (user_msg_id, ChatTurn("user", question))],
            summary=stored.record.summary,
            config=config,
            started=started,
            understand_s=time.perf_counter() - t,
        )
    with platform.session() as session:
        t = time.perf_counter()
        movies = select_facts(
            platform,
            session,
            question=question,
            intent=intent,
            user_taste=viewer.user.taste,
            history=viewer.history,
            context_ids=context_ids,
            n_retrieve=config.n_retrieve,
            pool_size=config.pool,
            use_embeddings=config.use_embeddings,
        )
        retrieve_s = time.perf_counter() - t
        if intent == "recommend":
            # A recommendation names only this turn's candidates (and the movies the request
            # itself names): a small model otherwise drifts back to earlier answers.
            retriever = catalog_retriever(platform)
            named = [m.movie_id for m in retriever.title_matches(question)[:3]]
            known = {i: retriever.movies[i] for i in named}
        else:
            known = repo.get_movies(session, ids=[i for t in recent for i in t.cited_ids])
        user_msg_id = conv.add_message(
            session, conversation_id=conversation_id, user_id=user_id, role="user", content=question
        )
    facts_movies = movies[: config.chat.max_facts]
    extra = (notes or review_notes(platform))([m.movie_id for m in facts_movies])
    facts = [Fact(m, extra.get(m.movie_id, "")) for m in facts_movies]
    prompt = build_chat_prompt(
        viewer.context,
        stored.memory,
        facts,
        question,
        language=language,
        config=config.chat,
        count_tokens=token_counter(platform.llm),
        recommend=intent == "recommend",
    )
    known.update({m.movie_id: m for m in viewer.context.watched})
    known.update({f.movie.movie_id: f.movie for f in prompt.facts})
    return TurnState(
        user_id=user_id,
        user_name=viewer.user.name,
        conversation_id=conversation_id,
        question=question,
        language=language,
        intent=intent,
        context=viewer.context,
        unsummarized=[*stored.turns, (user_msg_id, ChatTurn("user", question))],
        summary=stored.record.summary,
        facts=list(prompt.facts),
        known=known,
        prompt=prompt,
        config=config,
        started=started,
        timings={"prepare": time.perf_counter() - started, "retrieve": retrieve_s},
    )


def _plan(
    platform: Platform,
    session: Any,
    question: str,
    language: str,
    stored_state: Mapping[str, Any] | None,
) -> PlannedAnswer | None:
    """Resolve the question in code; an answer built from the database, or None (open)."""
    retriever = catalog_retriever(platform)
    query = understand(question, retriever=retriever, state=ChatState.from_json(stored_state))
    ids = [m.movie_id for m in query.movies]
    return plan_answer(
        session,
        query,
        language,
        newest_year=_newest_year(retriever),
        popularity={i: retriever.popularity.get(i, 0) for i in ids},
    )


def _newest_year(retriever: CatalogRetriever) -> int:
    return max((m.year or 0 for m in retriever.movies.values()), default=0)


def _planned_state(
    platform: Platform,
    planned: PlannedAnswer,
    *,
    user_id: int,
    user_name: str,
    conversation_id: int,
    question: str,
    language: str,
    context: ChatContext,
    unsummarized: list[tuple[int, ChatTurn]],
    summary: str,
    config: ChatServiceConfig,
    started: float,
    understand_s: float,
) -> TurnState:
    """The turn of a question resolved in code: the model only phrases the template answer."""
    facts = [Fact(m) for m in planned.facts]
    lines = [fact_line(f) for f in facts]
    if planned.verdict_fact:  # stated plainly: the model need not compare years or counts
        lines.append(planned.verdict_fact)
    messages = phrase_messages(question, lines, planned.text, language=language)
    count = token_counter(platform.llm)
    tokens = 0 if planned.deterministic else sum(count(m.content) for m in messages)
    return TurnState(
        user_id=user_id,
        user_name=user_name,
        conversation_id=conversation_id,
        question=question,
        language=language,
        intent="facts",
        context=context,
        unsummarized=unsummarized,
        summary=summary,
        facts=facts,
        known={m.movie_id: m for m in planned.facts},
        prompt=ChatPrompt(messages, tokens, tuple(facts), 0),
        config=config,
        started=started,
        timings={"prepare": time.perf_counter() - started, "understand": understand_s},
        planned=planned,
    )


def _interrupted(exc: LLMError) -> bool:
    """Whether the caller gave up on the call (not a failure, nor the turn's own deadline)."""
    return isinstance(exc, Cancelled) and exc.reason != DEADLINE


def _phrase_schema(
    config: ChatServiceConfig, planned: PlannedAnswer, supports_schema: bool
) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    """The grammar of a phrasing and the flags that say what it forced: a list names every
    listed movie's citation, whole and in order (``forced_citations``); a lead (a
    comparison's winner, a follow-up list's "Besides X,") starts the answer (``forced_lead``).
    Only a person's list is so cited, from the person on: with free words before its first
    title, Qwen 0.5B answered a Korean genre list in English ("The Lego Movie (2014) is the
    most popular ...")."""
    if not supports_schema:
        return None, ()
    lead = planned.lead if config.lead_comparisons else ""
    if planned.kind == "list" and config.cite_lists and planned.extra_names:
        # the names the draft gives before its list ("Simon Wells directed ..."): under the
        # titles alone, Qwen 0.5B started with the first title and dropped the person
        names, refs = planned.cited_parts()
        # and it answers from the person on: with free words before the person, it wandered
        schema = cited_schema([*names, *refs], lead=lead, opening=0 if names else 80)
        if schema is not None:
            return schema, ("forced_citations", *(("forced_lead",) if lead else ()))
    schema = lead_schema(lead) if lead else None
    return schema, ("forced_lead",) if schema is not None else ()


def _phrase(
    platform: Platform,
    state: TurnState,
    planned: PlannedAnswer,
    cancel: CancelToken | None = None,
) -> tuple[str, str, tuple[str, ...], str]:
    """``(text, raw model text, flags, model)``: the model's phrasing when it passes the checks,
    else the template answer flagged ``fallback`` (and ``interrupted`` when ``cancel`` stopped
    the model); a deterministic answer as it is."""
    backend = platform.llm
    if planned.deterministic:
        return (
            planned.text,
            "",
            ("catalog_unknown",) if planned.kind == "unknown" else (),
            TEMPLATE_MODEL,
        )
    if backend is None:
        return planned.text, "", ("fallback", "no_model"), TEMPLATE_MODEL
    schema, forced = _phrase_schema(state.config, planned, backend.supports_schema)
    try:
        # A phrasing is about as long as the draft; a runaway reply only costs time.
        budget = token_counter(backend)(planned.text) * 3 // 2 + 24 + (12 if schema else 0)
        reply = backend.complete(
            state.prompt.messages,
            schema=schema,
            max_tokens=min(state.config.chat.max_answer_tokens, budget),
            temperature=0.0,
            timeout_s=platform.settings.llm_timeout_s,
            **cancel_kwargs(backend, cancel),
        )
    except LLMError as exc:
        log.warning("chat answer from the template: %s", exc)
        why = "interrupted" if _interrupted(exc) else "model_error"
        return planned.text, "", ("fallback", why), TEMPLATE_MODEL
    raw = reply.text if schema is None else answer_of(reply.text)
    if raw is None:  # the grammar's JSON was cut short
        return planned.text, reply.text, ("fallback", "phrase_cut", *forced), TEMPLATE_MODEL
    retriever = catalog_retriever(platform)
    check = check_phrasing(
        raw,
        planned.text,
        planned.facts,
        required=planned.required,
        language=state.language,
        extra_names=planned.extra_names,
        verdict=planned.verdict,
        values=dict(planned.values),
        is_person=retriever.is_person,
        catalog_titles=retriever.titles_in_text,
        context=planned.context,
    )
    if not check.ok:
        log.info("chat phrasing refused (%s): %r", check.reason, raw)
        flags = ("fallback", f"phrase_{check.reason}", *forced)
        return planned.text, raw, flags, TEMPLATE_MODEL
    return check.text, raw, forced, reply.model or backend.model


def _run_planned(
    platform: Platform, state: TurnState, timer: StreamTimer, cancel: CancelToken | None = None
) -> Iterator[ChatEvent]:
    """The answer of a question resolved in code, checked whole before it is shown."""
    planned = state.planned
    assert planned is not None
    yield ChatEvent("meta", _meta(state))
    text, raw, flags, model = _phrase(platform, state, planned, cancel)
    timer.token()
    cited = tuple(dict.fromkeys(int(i) for i in CITATION.findall(text)))
    answer = _Final(text, cited, flags)
    message_id = _store(platform, state, answer, model, planned.state)
    timer.text()
    yield ChatEvent("token", {"text": text})
    result = ChatAnswer(
        conversation_id=state.conversation_id,
        message_id=message_id,
        text=text,
        cited_ids=cited,
        cited=tuple(state.known[i] for i in cited if i in state.known),
        retrieved_ids=tuple(m.movie_id for m in planned.facts),
        flags=flags,
        fallback="fallback" in flags,
        intent=state.intent,
        language=state.language,
        model=model,
        prompt_tokens=state.prompt.prompt_tokens,
        timings={
            **state.timings,
            **({"first_token": timer.first_token_s} if timer.first_token_s is not None else {}),
            **({"first_text": timer.first_text_s} if timer.first_text_s is not None else {}),
            "total": time.perf_counter() - state.started,
        },
        raw_text=raw,
        kind=planned.kind,
    )
    state.result = result
    if state.config.background_upkeep:
        _upkeep(platform, state, text, cited, message_id)
    yield ChatEvent("done", result.public())
    if not state.config.background_upkeep:
        _upkeep(platform, state, text, cited, message_id)


def _meta(state: TurnState) -> dict[str, Any]:
    return {
        "conversation_id": state.conversation_id,
        "intent": state.intent,
        "language": state.language,
        "retrieved": [
            {"id": f.movie.movie_id, "title": f.movie.display_title} for f in state.facts
        ],
        "prompt_tokens": state.prompt.prompt_tokens,
        "title": _conversation_title(state.question),
    }


def _conversation_title(question: str) -> str:
    return " ".join(question[:80].split()) or "…"


def _generate(
    backend: LLMBackend,
    state: TurnState,
    grounder: AnswerGrounder,
    timer: StreamTimer,
    *,
    timeout_s: float,
    cancel: CancelToken | None = None,
) -> Iterator[str]:
    """Stream checked text; raises LLMError on failure (Cancelled once ``cancel`` is cancelled:
    the model stops within a token), stops (flagged) at the deadline.

    A backend that cannot stream (``can_stream`` False) answers with one ``complete`` call, whose
    text goes through the same checks as one piece.
    """
    deadline = state.started + timeout_s
    max_tokens = state.config.chat.max_answer_tokens
    pieces: Iterator[str]
    if backend.can_stream:
        pieces = backend.stream(
            state.prompt.messages,
            max_tokens=max_tokens,
            temperature=0.0,
            **cancel_kwargs(backend, cancel),
        )
    else:
        left = max(deadline - time.perf_counter(), 0.001)
        reply = backend.complete(
            state.prompt.messages,
            max_tokens=max_tokens,
            temperature=0.0,
            timeout_s=left,
            **cancel_kwargs(backend, cancel),
        )
        pieces = iter([reply.text])
    try:
        for piece in pieces:
            timer.token()
            released = grounder.feed(piece)
            if released:
                timer.text()
                yield released
            if time.perf_counter() > deadline:
                grounder.flag("timeout")
                break
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def run_turn(
    platform: Platform, state: TurnState, *, cancel: CancelToken | None = None
) -> Iterator[ChatEvent]:
    """Stream the answer: ``meta``, checked ``token`` pieces, then ``done`` (see ChatAnswer).

    The answer is stored even when the consumer stops early (flagged ``interrupted``). A model
    failure gives a flagged answer listing the retrieved movies' facts. ``cancel``: the caller
    gave up (the web client disconnected); the model call stops within a token, and the turn
    ends with that flagged answer, also marked ``interrupted``.
    """
    settings = platform.settings
    timer = StreamTimer(start=state.started)
    if state.planned is not None:
        yield from _run_planned(platform, state, timer, cancel)
        return
    yield ChatEvent("meta", _meta(state))
    retriever = catalog_retriever(platform)
    grounder = AnswerGrounder(
        allowed_ids=set(state.known),
        known_titles=[m.title for m in state.known.values()],
        allowed_names=[*names_of(state.known.values()), state.user_name],
        is_person=retriever.is_person,
        catalog_titles=retriever.titles_in_text,
        max_chars=state.config.chat.max_answer_chars,
        facts=list(state.known.values()),
    )
    backend = platform.llm
    model = backend.model if backend is not None else TEMPLATE_MODEL
    emitted = ""
    error: str | None = None
    finished = interrupted = False
    try:
        if backend is not None:
            try:
                for piece in _generate(
                    backend,
                    state,
                    grounder,
                    timer,
                    timeout_s=settings.llm_timeout_s,
                    cancel=cancel,
                ):
                    emitted += piece
                    yield ChatEvent("token", {"text": piece})
            except LLMError as exc:
                error = str(exc)
                log.warning("chat answer from the catalog facts: %s", exc)
                interrupted = _interrupted(exc)
        finished = not interrupted
    finally:
        log.debug("chat model output: %r", grounder.raw)
        answer = _finish(state, grounder, backend, error, finished, emitted)
        followed = ChatState(movie_ids=answer.cited_ids[:3], listed_ids=answer.cited_ids)
        message_id = _store(platform, state, answer, model, followed)
    tail = answer.text[len(emitted) :] if answer.text.startswith(emitted) else ""
    if tail.strip():
        timer.text()  # a one-sentence answer is released when it ends
    result = ChatAnswer(
        conversation_id=state.conversation_id,
        message_id=message_id,
        text=answer.text,
        cited_ids=answer.cited_ids,
        cited=tuple(state.known[i] for i in answer.cited_ids if i in state.known),
        retrieved_ids=tuple(f.movie.movie_id for f in state.facts),
        flags=answer.flags,
        fallback="fallback" in answer.flags,
        intent=state.intent,
        language=state.language,
        model=model if "fallback" not in answer.flags else TEMPLATE_MODEL,
        prompt_tokens=state.prompt.prompt_tokens,
        timings={
            **state.timings,
            **({"first_token": timer.first_token_s} if timer.first_token_s is not None else {}),
            **({"first_text": timer.first_text_s} if timer.first_text_s is not None else {}),
            "total": time.perf_counter() - state.started,
        },
        raw_text=grounder.raw,
    )
    state.result = result
    if tail.strip():
        yield ChatEvent("token", {"text": tail})
    if state.config.background_upkeep:  # starts a thread: the consumer may stop after "done"
        _upkeep(platform, state, answer.text, answer.cited_ids, message_id)
    yield ChatEvent("done", result.public())
    if not state.config.background_upkeep:
        _upkeep(platform, state, answer.text, answer.cited_ids, message_id)


@dataclass(frozen=True, slots=True)
class _Final:
    text: str
    cited_ids: tuple[int, ...]
    flags: tuple[str, ...]


def _finish(
    state: TurnState,
    grounder: AnswerGrounder,
    backend: LLMBackend | None,
    error: str | None,
    finished: bool,
    emitted: str,
) -> _Final:
    checked = grounder.finish()
    flags = list(checked.flags)
    if not finished:
        flags.append("interrupted")
    if backend is None or error is not None:
        text = facts_answer(state.facts, state.language, unavailable=True)
        return _Final(text, tuple(f.movie.movie_id for f in state.facts), (*flags, "fallback"))
    text, added = add_missing_citations(checked.text, [f.movie for f in state.facts])
    cited = tuple(dict.fromkeys([*checked.cited_ids, *added]))
    if added:
        flags.append("auto_cited")
    if not text.strip() and finished:
        text = facts_answer(state.facts, state.language, unavailable=False)
        cited = tuple(f.movie.movie_id for f in state.facts)
        flags.append("empty_answer")
    return _Final(text, cited, tuple(dict.fromkeys(flags)))


def _store(
    platform: Platform, state: TurnState, answer: _Final, model: str, followed: ChatState
) -> int:
    """Store the answer and what it resolved (read by the next turn's follow-up)."""
    with platform.session() as session:
        conv.update_state(
            session,
            conversation_id=state.conversation_id,
            user_id=state.user_id,
            state=followed.to_json(),
        )
        return conv.add_message(
            session,
            conversation_id=state.conversation_id,
            user_id=state.user_id,
            role="assistant",
            content=answer.text,
            cited_ids=answer.cited_ids,
            flags=answer.flags,
            model=model,
        )


def _upkeep(
    platform: Platform, state: TurnState, text: str, cited: Sequence[int], message_id: int
) -> None:
    """Fold old turns into the summary when needed, then warm the next prompt's prefix."""
    turns = [*state.unsummarized, (message_id, ChatTurn("assistant", text, tuple(cited)))]
    cfg = state.config

    def work() -> None:
        try:
            summary, kept = fold_conversation(
                platform,
                user_id=state.user_id,
                conversation_id=state.conversation_id,
                summary=state.summary,
                turns=turns,
                titles={i: m.display_title for i, m in state.known.items()},
                language=state.language,
                allowed_names=names_of(state.known.values()),
                config=cfg.chat,
                with_model=cfg.summarize_with_model,
            )
            if cfg.prefill and not platform.closing:  # shutting down: no further model call
                memory = ChatMemory(summary=summary, recent=tuple(t for _, t in kept))
                prefill(
                    platform.llm_at(Priority.WARMUP),
                    state.context,
                    memory,
                    state.language,
                    cfg.chat,
                )
        except Exception as exc:  # noqa: BLE001 - upkeep never fails a turn already answered
            log.warning("chat upkeep failed: %s", exc)

    if cfg.background_upkeep:
        threading.Thread(target=work, name="cinerec-chat-upkeep", daemon=True).start()
    else:
        work()


def chat_turn(
    platform: Platform,
    *,
    user_id: int,
    message: str,
    conversation_id: int | None = None,
    config: ChatServiceConfig | None = None,
    notes: NoteSource | None = None,
    cancel: CancelToken | None = None,
) -> ChatAnswer:
    """One whole turn without streaming; returns the final grounded answer. ``cancel``: the
    caller gave up (the web client disconnected); as in :func:`run_turn`, the model stops
    within a token and the stored answer is the flagged facts answer, marked ``interrupted``."""
    state = start_turn(
        platform,
        user_id=user_id,
        message=message,
        conversation_id=conversation_id,
        config=config,
        notes=notes,
    )
    for _ in run_turn(platform, state, cancel=cancel):
        pass
    assert state.result is not None
    return state.result
