"""Reasons for an already-ranked page, written one card at a time so each can be shown at once.

The ranked list comes first (recommender, optionally re-scored by the model's probabilities);
reasons are the only free text the model writes for a page. Each card is one small
schema-constrained call whose prompt starts with the same viewer block, so llama.cpp reuses the
evaluated prefix and only the card's own facts are new: the first reason appears about a second
after the prompt prefix is cached. Every reason is grounding-cleaned: it may name its own movie
and the viewer's watched movies, nothing else; a repeated reason is dropped. A failing model
stops the stream with ``Reason.error`` set; the page keeps its ranked list.

Korean viewers get the task in Korean and a schema whose reason must start with a Hangul
syllable: with the English task (and English catalog facts) Qwen 1.5B answered in English for
141 of 144 Korean cards (``benchmarks/results/llm_requests_before_reason_language_fix.md``).
A reason cut by the length limit ends at a word, with ``…``.

Example:
    >>> for r in write_reasons(backend, profile, persona, history, movies):  # doctest: +SKIP
    ...     print(r.movie_id, r.text)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, LLMBackend, Message
from cinerec.llm.grounding import finish_cut, ground_text
from cinerec.llm.persona import LANGUAGES, UserProfile
from cinerec.llm.schemas import (
    REASON_MAX_CHARS,
    ReasonOut,
    parse_reply,
    reason_schema,
)
from cinerec.llm.templates import render
from cinerec.llm.viewer import viewer_messages

log = logging.getLogger(__name__)

OVERVIEW_CHARS = 160
NOTE_CHARS = 240
# A <=120-char sentence inside {"reason": "..."}; Korean needs about twice the tokens.
_MAX_TOKENS = {"en": 48, "ko": 96}


@dataclass(frozen=True, slots=True)
class Reason:
    """One card's reason, or why there is none.

    ``text`` is None when grounding removed it, it repeated an earlier one, or the model failed;
    ``error`` is set only when the model failed (the stream ends after such an item).
    ``raw_text`` is the model's reply as it came and ``repairs`` what the checks changed on the
    way to ``text`` (removed sentences, a cut end, a repeat dropped): for measuring the model,
    never shown.
    """

    movie_id: int
    text: str | None
    cleaned: bool
    elapsed_s: float
    model: str
    error: str | None = None
    raw_text: str | None = None
    repairs: tuple[str, ...] = ()


def _task_template(language: str) -> str:
    return "reason_task_ko" if language == "ko" else "reason_task"


def _schema(language: str) -> dict[str, Any]:
    """The reason's JSON schema; in Korean the reason starts with a Hangul syllable (the grammar
    then keeps a small model from drifting into English) and stays within the length limit."""
    schema = reason_schema()
    if language == "ko":
        schema["properties"]["reason"]["pattern"] = (
            rf'^[\uac00-\ud7a3][^"\\]{{0,{REASON_MAX_CHARS - 1}}}$'
        )
    return schema


def movie_facts(movie: Movie, note: str = "") -> str:
    """One line of catalog facts: ``Title (year) | genres | director | cast | plot``, then the
    ``note`` (what reviewers say, from the review summaries) when there is one."""
    overview = " ".join(movie.overview.split())
    if len(overview) > OVERVIEW_CHARS:
        overview = overview[:OVERVIEW_CHARS].rsplit(" ", 1)[0] + "..."
    fields = [
        movie.display_title,
        ", ".join(movie.genres[:3]) or "-",
        movie.director or "-",
        ", ".join(movie.cast[:3]) or "-",
        overview or "-",
    ]
    if note:
        fields.append(" ".join(note.split())[:NOTE_CHARS])
    return " | ".join(f.replace("|", "/") for f in fields)


def reason_messages(
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    movie: Movie,
    note: str = "",
) -> list[Message]:
    """The prompt for one card: the shared viewer block (:func:`cinerec.llm.viewer.viewer_messages`,
    the same bytes the ranking prompts start with), then the card's facts and the task. The
    runtime's prefix cache therefore covers everything before the movie's facts."""
    language = profile.language if profile.language in LANGUAGES else "en"
    task = render(
        _task_template(language), language_name=LANGUAGES[language], movie=movie_facts(movie, note)
    )
    return viewer_messages(profile, persona, history, task)


def warm_prefix(
    backend: LLMBackend,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    *,
    timeout_s: float = 60.0,
    movie: Movie | None = None,
    note: str = "",
) -> bool:
    """Evaluate the part every card's prompt shares (viewer block and task) ahead of a page.

    One reply token is generated from the prompt of :func:`reason_messages` without a movie, so
    the runtime's prefix cache (llama.cpp's KV cache; automatic prefix caching on vLLM) holds
    the viewer's tokens when the first card is asked, and its reason needs only the card's facts
    evaluated. With ``movie`` (the predicted first card of the next page, and its review
    ``note``) the whole prompt of that card is evaluated instead: its reason then needs no
    prompt evaluation at all, and every other card still shares the viewer block. Returns False
    (and logs) when the model fails; nothing depends on the warm-up.
    """
    if movie is not None:
        messages = reason_messages(profile, persona, history, movie, note)
    else:
        language = profile.language if profile.language in LANGUAGES else "en"
        # Everything before the card's facts, so it is a string prefix of every card's prompt.
        task = render(_task_template(language), language_name=LANGUAGES[language], movie="")
        task = task.rstrip()
        messages = viewer_messages(profile, persona, history, task)
    try:
        backend.complete(
            messages,
            max_tokens=1,
            temperature=0.0,
            timeout_s=timeout_s,
        )
    except LLMError as exc:
        log.info("warming the reasons' prompt prefix failed: %s", exc)
        return False
    return True


def _allowed_names(profile: UserProfile, history: Sequence[Movie], movie: Movie) -> list[str]:
    names = [profile.name] if profile.name else []
    for m in [*history, movie]:
        names.extend([*m.genres, *m.cast[:3], *([m.director] if m.director else [])])
    return names


def write_reasons(
    backend: LLMBackend,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    movies: Sequence[Movie],
    *,
    timeout_s: float = 60.0,
    notes: Mapping[int, str] | None = None,
) -> Iterator[Reason]:
    """Yield one :class:`Reason` per movie, in the given order, as each is written.

    Args:
        backend: The language model.
        profile: The viewer; ``taste`` is quoted as untrusted data.
        persona: The viewer's persona (may be a template one).
        history: Watched movies, oldest first.
        movies: The page's movies, best first.
        timeout_s: Budget for the whole page; a card that cannot finish in what is left ends the
            stream with an error item.
        notes: Per movie id, what reviewers say (a line of the review summary), added to that
            card's facts so its reason can cite real review evidence.

    Never raises for model errors: the failing card is yielded with ``error`` set and the stream
    stops (later cards would fail the same way and only delay the page).
    """
    deadline = time.perf_counter() + timeout_s
    history_titles = [m.title for m in history]
    seen: set[str] = set()
    language = profile.language if profile.language in _MAX_TOKENS else "en"
    for movie in movies:
        start = time.perf_counter()
        left = deadline - start
        if left <= 0:
            yield Reason(movie.movie_id, None, False, 0.0, backend.model, "out of time")
            return
        messages = reason_messages(
            profile, persona, history, movie, (notes or {}).get(movie.movie_id, "")
        )
        completion: Completion | None = None
        try:
            completion = backend.complete(
                messages,
                schema=_schema(language) if backend.supports_schema else None,
                max_tokens=_MAX_TOKENS[language],
                temperature=0.0,
                timeout_s=left,
            )
            raw = parse_reply(completion.text, ReasonOut).reason
        except LLMError as exc:
            reply = completion.text if completion is not None else None
            yield Reason(
                movie.movie_id,
                None,
                False,
                time.perf_counter() - start,
                backend.model,
                str(exc),
                raw_text=reply,
            )
            return
        except Exception as exc:  # a backend broke its contract; the page must still render
            log.exception("reason backend %s failed", getattr(backend, "name", "?"))
            error = f"{type(exc).__name__}: {exc}"
            yield Reason(movie.movie_id, None, False, time.perf_counter() - start, "?", error)
            return
        grounded = ground_text(
            raw,
            [movie.title, *history_titles],
            allowed=_allowed_names(profile, history, movie),
            max_chars=REASON_MAX_CHARS,
            untrusted=profile.taste,
        )
        text, cleaned, repairs = grounded.text, bool(grounded.removed), grounded.repairs()
        if len(raw) >= REASON_MAX_CHARS or completion.completion_tokens >= _MAX_TOKENS[language]:
            cut = finish_cut(text)
            repairs += (f"cut end: {text!r} -> {cut!r}",) if cut != text else ()
            text = cut
        key = " ".join(text.lower().split())
        if key and key in seen:  # small models repeat one sentence for every card
            text, cleaned, repairs = "", True, (*repairs, "dropped: repeats an earlier reason")
        seen.add(key)
        yield Reason(
            movie.movie_id,
            text or None,
            cleaned,
            time.perf_counter() - start,
            completion.model,
            raw_text=completion.text,
            repairs=repairs,
        )
