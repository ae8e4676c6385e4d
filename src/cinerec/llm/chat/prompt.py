"""Chat about the catalog: prompt assembly, bounded memory, and grounded answers.

The prompt is ordered for llama.cpp's prefix reuse: what stays the same between turns comes first
(rules, the viewer's persona and watched movies, the summary of older turns), then the recent
turns verbatim (append-only between summaries), and last what is new each turn (the retrieved
facts and the question). Only the new part is evaluated again, so the first token comes quickly.

Memory does not drift: the last ``recent_max`` messages stay verbatim; when there are more, all but
the newest ``recent_min`` are folded into a short summary (written by the model, or by a template
when the model fails), whose movie mentions are grounding-checked like any answer. The prompt's
size is measured (with the backend's ``count_tokens``, else a character estimate) and bounded
by dropping facts, then the oldest turns, then shortening the summary.

Answers are checked sentence by sentence as they stream (:class:`AnswerGrounder`): citations
``[#id]`` must be ids the model was given, and a sentence naming a title that is not among the
given movies is dropped (see :func:`cinerec.llm.grounding.find_unknown_titles`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import LLMBackend, Message, estimate_tokens
from cinerec.llm.chat.grounding import CITATION, AnswerGrounder, cut_words
from cinerec.llm.grounding import sanitize_user_text
from cinerec.llm.persona import TEMPLATE_MODEL, UserProfile
from cinerec.llm.templates import render
from cinerec.text.lang import GENRES_KO, LANGUAGES

log = logging.getLogger(__name__)

ChatRole = Literal["user", "assistant"]
TokenCounter = Callable[[str], int]

_MESSAGE_OVERHEAD = 5  # ChatML tokens around each message


@dataclass(frozen=True, slots=True)
class ChatConfig:
    """Sizes that bound the chat prompt and memory.

    Attributes:
        recent_min: Messages kept verbatim right after older ones are summarized.
        recent_max: Most verbatim messages; one more triggers a summary (an even number keeps
            question/answer pairs together).
        max_message_chars: Each earlier message is cut to this many characters in the prompt.
        max_question_chars: The question is cut to this many characters.
        max_facts: Retrieved movies given to the model.
        plot_facts: How many recommendation candidates carry keywords and a plot snippet.
        plot_chars: Length of a plot snippet.
        max_prompt_tokens: Upper bound on the prompt, measured.
        max_answer_tokens: Generation budget of an answer.
        max_sentences: Sentences the model is asked to stay within.
        summary_max_chars: Length bound of the rolling summary.
        max_answer_chars: Length bound of a stored answer.
        watched_titles: Most recent watched movies named in the prompt.
    """

    recent_min: int = 4
    recent_max: int = 8
    max_message_chars: int = 500
    max_question_chars: int = 500
    max_facts: int = 4
    plot_facts: int = 2
    plot_chars: int = 80
    max_prompt_tokens: int = 1400
    max_answer_tokens: int = 200
    max_sentences: int = 4
    summary_max_chars: int = 500
    max_answer_chars: int = 1500
    watched_titles: int = 8


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One stored message as memory sees it."""

    role: ChatRole
    content: str
    cited_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatMemory:
    """What the model remembers: a summary of older turns and the recent ones verbatim."""

    summary: str = ""
    recent: tuple[ChatTurn, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatContext:
    """The stable part of every prompt: who the viewer is and what they watched."""

    profile: UserProfile
    persona: str = ""
    watched: tuple[Movie, ...] = ()


@dataclass(frozen=True, slots=True)
class Fact:
    """A retrieved movie with an optional note (e.g. a review aspect summary)."""

    movie: Movie
    note: str = ""


@dataclass(frozen=True)
class ChatPrompt:
    """Messages to send, their measured size, and what made it in."""

    messages: list[Message]
    prompt_tokens: int
    facts: tuple[Fact, ...]
    recent_used: int
    trimmed: tuple[str, ...] = ()


# Sizes ---------------------------------------------------------------------------------------


def token_counter(backend: LLMBackend | None) -> TokenCounter:
    """The backend's own ``count_tokens``, or :func:`estimate_tokens` without a model."""
    return estimate_tokens if backend is None else backend.count_tokens


# Facts ---------------------------------------------------------------------------------------


def fact_line(fact: Fact, *, keywords: int = 0, plot_chars: int = 0) -> str:
    """One compact line of catalog facts, cited by id.

    Example:
        >>> fact_line(Fact(Movie(6, "Heat", 1995, ("Crime",), director="Michael Mann")))
        '[#6] Heat (1995); Crime; directed by Michael Mann'
    """
    movie = fact.movie
    parts = [f"[#{movie.movie_id}] {movie.display_title}"]
    if movie.genres:
        parts.append(", ".join(movie.genres[:3]))
    parts.append(f"directed by {movie.director}" if movie.director else "director unknown")
    if movie.cast:
        parts.append(f"starring {', '.join(movie.cast[:3])}")
    if keywords and movie.keywords:
        parts.append("about " + ", ".join(movie.keywords[:keywords]))
    if plot_chars and movie.overview:
        parts.append(cut_words(movie.overview, plot_chars))
    if fact.note:
        parts.append(cut_words(fact.note, 120))
    return "; ".join(" ".join(p.split()) for p in parts)


def facts_block(facts: Sequence[Fact], config: ChatConfig, *, recommend: bool = False) -> str:
    """The facts as lines; for recommendations the first ``plot_facts`` also carry keywords and
    a plot snippet (a fact question needs neither, and every token delays the answer)."""
    if not facts:
        return "(no matching movies in the catalog)"
    return "\n".join(
        fact_line(
            f,
            keywords=3 if recommend and i < config.plot_facts else 0,
            plot_chars=config.plot_chars if recommend and i < config.plot_facts else 0,
        )
        for i, f in enumerate(facts)
    )


def facts_answer(facts: Sequence[Fact], language: str, *, unavailable: bool = True) -> str:
    """A useful answer without a model: the retrieved movies' facts, cited by id."""
    ko = language == "ko"
    if not facts:
        return (
            "카탈로그에서 관련 영화를 찾지 못했습니다. 제목, 감독, 배우나 장르로 물어보세요."
            if ko
            else "I found no matching movies in the catalog; ask about a title, a person or a "
            "genre."
        )
    if unavailable:
        head = (
            "언어 모델을 사용할 수 없어 카탈로그 정보를 보여드립니다:"
            if ko
            else "The language model is unavailable, so here is what the catalog says:"
        )
    else:
        head = "카탈로그에서 찾은 영화:" if ko else "Movies from the catalog:"
    lines = [head]
    for fact in facts:
        m = fact.movie
        genres = [GENRES_KO.get(g, g) if ko else g for g in m.genres[:3]]
        bits = [", ".join(genres)] if genres else []
        cast = ", ".join(m.cast[:3])
        if m.director:
            bits.append(f"감독 {m.director}" if ko else f"directed by {m.director}")
        if cast:
            bits.append(f"출연 {cast}" if ko else f"starring {cast}")
        lines.append(f"- {m.display_title} [#{m.movie_id}]: {'; '.join(bits) or '-'}.")
    return "\n".join(lines)


# Prompt --------------------------------------------------------------------------------------


def _viewer(context: ChatContext) -> str:
    profile = context.profile
    name = sanitize_user_text(profile.name, 40) or "the viewer"
    persona = sanitize_user_text(context.persona, 400)
    age = f", {profile.age}" if profile.age else ""
    taste = sanitize_user_text(profile.taste, 200)
    parts = [f"{name}{age}."]
    if persona:
        parts.append(persona)
    if taste:
        parts.append(f"Taste, in their words: <<<{taste}>>>")
    return " ".join(parts)


def system_message(
    context: ChatContext,
    summary: str,
    *,
    language: str,
    config: ChatConfig,
    closed_book: bool = False,
) -> Message:
    """The stable first message: rules, viewer, watched movies, summary of older turns."""
    recent = [m.display_title for m in context.watched[-config.watched_titles :]][::-1]
    text = render(
        "chat_system_closed" if closed_book else "chat_system",
        language_name=LANGUAGES.get(language, "English"),
        max_sentences=config.max_sentences,
        viewer=_viewer(context),
        watched="; ".join(recent) or "(nothing yet)",
        summary=cut_words(summary, config.summary_max_chars) or "(nothing yet)",
    )
    return Message("system", text)


def turn_messages(turns: Sequence[ChatTurn], config: ChatConfig) -> list[Message]:
    """Earlier turns as messages, each cut to ``max_message_chars`` (user text sanitized)."""
    messages = []
    for turn in turns:
        content = turn.content
        if turn.role == "user":
            content = sanitize_user_text(content, config.max_message_chars)
        messages.append(Message(turn.role, cut_words(content, config.max_message_chars)))
    return messages


def build_chat_prompt(
    context: ChatContext,
    memory: ChatMemory,
    facts: Sequence[Fact],
    question: str,
    *,
    language: str,
    config: ChatConfig | None = None,
    count_tokens: TokenCounter = estimate_tokens,
    recommend: bool = False,
    closed_book: bool = False,
) -> ChatPrompt:
    """Assemble the messages, stable parts first, within ``config.max_prompt_tokens``.

    Over budget, facts are dropped from the end (one always stays), then the oldest turns (in
    pairs), then the summary is shortened.
    """
    config = config or ChatConfig()
    facts = list(facts[: config.max_facts])
    recent = list(memory.recent[-config.recent_max :])
    summary = memory.summary
    clean_question = sanitize_user_text(question, config.max_question_chars)
    trimmed: list[str] = []

    def assemble() -> list[Message]:
        messages = [
            system_message(
                context, summary, language=language, config=config, closed_book=closed_book
            )
        ]
        messages += turn_messages(recent, config)
        if closed_book:
            user = render("chat_user_closed", question=clean_question)
        else:
            user = render(
                "chat_user_recommend" if recommend else "chat_user",
                facts=facts_block(facts, config, recommend=recommend),
                question=clean_question,
            )
        messages.append(Message("user", user))
        return messages

    def size(messages: list[Message]) -> int:
        return sum(count_tokens(m.content) + _MESSAGE_OVERHEAD for m in messages)

    messages = assemble()
    total = size(messages)
    while total > config.max_prompt_tokens:
        if len(facts) > 1:
            facts.pop()
            trimmed.append("fact")
        elif recent:
            del recent[: 2 if len(recent) > 1 else 1]
            trimmed.append("turns")
        elif len(summary) > 80:
            summary = summary[len(summary) // 2 :]
            trimmed.append("summary")
        else:
            break
        messages = assemble()
        total = size(messages)
    return ChatPrompt(messages, total, tuple(facts), len(recent), tuple(trimmed))


# Memory --------------------------------------------------------------------------------------


def split_for_summary(
    turns: Sequence[ChatTurn], config: ChatConfig
) -> tuple[list[ChatTurn], list[ChatTurn]]:
    """``(to_fold, kept)``: nothing to fold until there are more than ``recent_max`` turns."""
    if len(turns) <= config.recent_max:
        return [], list(turns)
    cut = len(turns) - config.recent_min
    return list(turns[:cut]), list(turns[cut:])


def _titles_line(ids: Iterable[int], titles: Mapping[int, str]) -> str:
    named = [f"{titles[i]} [#{i}]" for i in dict.fromkeys(ids) if i in titles]
    return ", ".join(named[-8:])


def template_summary(
    previous: str,
    turns: Sequence[ChatTurn],
    titles: Mapping[int, str],
    *,
    language: str = "en",
    max_chars: int = 500,
) -> str:
    """A deterministic summary: the viewer's questions and the movies the answers cited."""
    asked = "; ".join(cut_words(t.content, 80) for t in turns if t.role == "user")
    end = "" if asked.endswith((".", "?", "!", "…", "。", "？", "！")) else "."
    cited = _titles_line((i for t in turns for i in t.cited_ids), titles)
    if language == "ko":
        new = f"시청자가 물은 것: {asked}{end}" if asked else ""
        new += f" 언급된 영화: {cited}." if cited else ""
    else:
        new = f"The viewer asked: {asked}{end}" if asked else ""
        new += f" Movies discussed: {cited}." if cited else ""
    text = f"{previous} {new}".strip()
    if len(text) > max_chars:  # keep the newest part, from a sentence start
        tail = text[-max_chars:]
        start = tail.find(". ")
        text = tail[start + 2 :] if 0 <= start < max_chars // 2 else tail
    return text.strip()


@dataclass(frozen=True, slots=True)
class SummaryResult:
    """A rolling summary and how it was made (``fallback``: by the template)."""

    text: str
    model: str
    fallback: bool
    error: str | None = None


def summarize_turns(
    backend: LLMBackend | None,
    previous: str,
    turns: Sequence[ChatTurn],
    titles: Mapping[int, str],
    *,
    language: str = "en",
    allowed_names: Iterable[str] = (),
    config: ChatConfig | None = None,
    timeout_s: float | None = 60.0,
) -> SummaryResult:
    """Fold ``turns`` into the summary with the model; the template on any failure.

    The model's summary is grounded: citations must be ids cited in the turns or the previous
    summary, sentences naming other titles are dropped, and the cited movies are appended by
    the template so they are never lost.
    """
    config = config or ChatConfig()
    fallback = template_summary(
        previous, turns, titles, language=language, max_chars=config.summary_max_chars
    )
    if backend is None or not turns:
        return SummaryResult(fallback, TEMPLATE_MODEL, True)
    lines = [
        f"{'Viewer' if t.role == 'user' else 'Assistant'}: {cut_words(t.content, 300)}"
        for t in turns
    ]
    messages = [
        Message("system", render("chat_summary_system", language_name=LANGUAGES[language])),
        Message(
            "user",
            render(
                "chat_summary_user",
                summary=cut_words(previous, config.summary_max_chars) or "(none)",
                messages="\n".join(lines),
            ),
        ),
    ]
    try:
        reply = backend.complete(messages, max_tokens=160, temperature=0.0, timeout_s=timeout_s)
    except LLMError as exc:
        log.info("chat summary by template: %s", exc)
        return SummaryResult(fallback, TEMPLATE_MODEL, True, str(exc))
    known = {i for t in turns for i in t.cited_ids} | {int(i) for i in CITATION.findall(previous)}
    grounder = AnswerGrounder(
        allowed_ids=known,
        known_titles=[titles[i] for i in known if i in titles],
        allowed_names=allowed_names,
        max_chars=config.summary_max_chars,
    )
    grounder.feed(reply.text)
    checked = grounder.finish()
    if len(checked.text) < 20:
        return SummaryResult(fallback, TEMPLATE_MODEL, True, "summary too short")
    cited = _titles_line((i for t in turns for i in t.cited_ids), titles)
    missing = cited and not all(f"[#{i}]" in checked.text for t in turns for i in t.cited_ids)
    text = checked.text
    if missing:
        text += (" 언급된 영화: " if language == "ko" else " Movies discussed: ") + cited + "."
    return SummaryResult(cut_words(text, config.summary_max_chars), reply.model, False)


@dataclass
class StreamTimer:
    """Time to the first generated piece and to the first released (checked) text."""

    start: float = field(default_factory=time.perf_counter)
    first_token_s: float | None = None
    first_text_s: float | None = None

    def token(self) -> None:
        if self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.start

    def text(self) -> None:
        if self.first_text_s is None:
            self.first_text_s = time.perf_counter() - self.start
