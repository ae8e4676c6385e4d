"""Re-rank a recommender's candidates with the language model, with reasons for the top few.

The model sees at most :data:`MAX_MODEL_CANDIDATES` candidates, described only by catalog facts
(id, title and year, genres, director, top cast, a plot snippet), and picks the best ``n`` with a
fit score and a one-sentence reason. Its reply is never trusted: ids must be candidate ids,
duplicates are dropped, reasons are grounding-cleaned, and candidates it left out follow in base
order. Any failure returns the base ranking with ``fallback=True``. The result is always a full
permutation of the candidates.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import LLMBackend, Message
from cinerec.llm.grounding import clean_free_text, sanitize_user_text
from cinerec.llm.persona import LANGUAGES, TEMPLATE_MODEL, UserProfile
from cinerec.llm.schemas import (
    PERSONA_MAX_CHARS,
    REASON_MAX_CHARS,
    RerankItemOut,
    RerankOut,
    parse_reply,
    rerank_schema,
)
from cinerec.llm.templates import render

log = logging.getLogger(__name__)

MAX_MODEL_CANDIDATES = 20
MAX_REASONS = 10
MAX_HISTORY_TITLES = 10
OVERVIEW_CHARS = 90
# Generation budget per item: id, fit and a <=120-char reason (Korean needs about twice the tokens).
_TOKENS_PER_ITEM = {"en": 60, "ko": 120}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A movie proposed by the recommender with its score (higher is better)."""

    movie: Movie
    score: float


@dataclass(frozen=True, slots=True)
class RankedItem:
    """One re-ranked movie: ``fit_score`` in 0..1, an optional reason, and its 0-based position
    in the base (recommender) order."""

    movie_id: int
    fit_score: float
    reason: str | None
    base_rank: int


@dataclass(frozen=True, slots=True)
class RerankResult:
    """The new order (a permutation of the candidates) and how it was made."""

    items: list[RankedItem]
    fallback: bool
    error: str | None
    model: str
    elapsed_s: float
    cleaned: bool = False


def base_fit_scores(candidates: Sequence[Candidate]) -> list[float]:
    """Map recommender scores onto 0.1..1 (min-max); equal scores fall back to rank order."""
    if not candidates:
        return []
    scores = [c.score for c in candidates]
    low, high = min(scores), max(scores)
    if high > low:
        return [round(0.1 + 0.9 * (s - low) / (high - low), 4) for s in scores]
    n = len(candidates)
    return [round(1.0 - 0.9 * i / max(n - 1, 1), 4) for i in range(n)]


def base_ranking(candidates: Sequence[Candidate]) -> list[RankedItem]:
    """The candidates in their given order, fit scores from the recommender, no reasons."""
    fits = base_fit_scores(candidates)
    return [RankedItem(c.movie.movie_id, fits[i], None, i) for i, c in enumerate(candidates)]


def candidate_line(movie: Movie) -> str:
    """One compact line of facts: ``id | Title (year) | genres | director | cast | plot``."""
    overview = " ".join(movie.overview.split())
    if len(overview) > OVERVIEW_CHARS:
        overview = overview[:OVERVIEW_CHARS].rsplit(" ", 1)[0] + "..."
    fields = [
        str(movie.movie_id),
        movie.display_title,
        ", ".join(movie.genres[:3]) or "-",
        movie.director or "-",
        ", ".join(movie.cast[:2]) or "-",
        overview or "-",
    ]
    return " | ".join(f.replace("|", "/") for f in fields)


def rerank_messages(
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    candidates: Sequence[Candidate],
    *,
    n: int,
    max_taste_chars: int = 500,
) -> list[Message]:
    """The prompt: persona, quoted taste, recent titles, and one line per candidate."""
    language = profile.language if profile.language in LANGUAGES else "en"
    recent = [m.display_title for m in list(history)[-MAX_HISTORY_TITLES:]]
    system = render("rerank_system", n=n, language_name=LANGUAGES[language])
    user = render(
        "rerank_user",
        persona=sanitize_user_text(persona, PERSONA_MAX_CHARS) or "(no persona)",
        taste=sanitize_user_text(profile.taste, max_taste_chars) or "(none given)",
        history="; ".join(recent) or "(nothing yet)",
        candidates="\n".join(candidate_line(c.movie) for c in candidates),
    )
    return [Message("system", system), Message("user", user)]


def _unique(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates without repeated movie ids (first occurrence wins)."""
    seen: set[int] = set()
    unique = []
    for c in candidates:
        if c.movie.movie_id not in seen:
            seen.add(c.movie.movie_id)
            unique.append(c)
    return unique


def _valid_items(reply: RerankOut, candidate_ids: set[int], n: int) -> list[RerankItemOut]:
    seen: set[int] = set()
    kept = []
    for item in reply.items:
        if item.id in candidate_ids and item.id not in seen:
            seen.add(item.id)
            kept.append(item)
    return kept[:n]


def _known(
    profile: UserProfile, history: Sequence[Movie], candidates: Sequence[Candidate]
) -> tuple[list[str], list[str]]:
    movies = [*history, *(c.movie for c in candidates)]
    titles = [m.title for m in movies]
    names = [profile.name] if profile.name else []
    for m in movies:
        names.extend([*m.genres, *m.cast[:3], *([m.director] if m.director else [])])
    return titles, names


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _names_other_candidate(
    reason: str, movie_id: int, title_of: dict[int, str], allowed_titles: Sequence[str]
) -> bool:
    """Whether ``reason`` names another candidate's title (word-bounded, case-insensitive)."""
    text = f" {_words(reason)} "
    allowed = {_words(t) for t in allowed_titles}
    for other_id, title in title_of.items():
        words = _words(title)
        if other_id != movie_id and words and words not in allowed and f" {words} " in text:
            return True
    return False


def rerank(
    backend: LLMBackend | None,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    candidates: Sequence[Candidate],
    *,
    n: int = MAX_REASONS,
    timeout_s: float = 60.0,
    max_taste_chars: int = 500,
) -> RerankResult:
    """Re-rank ``candidates`` (given in base order) for the viewer; never raises for model errors.

    Args:
        backend: The language model, or None for the base ranking.
        profile: The viewer; ``taste`` is quoted as untrusted data.
        persona: The persona text (from :func:`cinerec.llm.persona.write_persona`).
        history: Watched movies, oldest first.
        candidates: Recommender output, best first; the first 20 go to the model.
        n: How many top items the model ranks and explains (capped at 10).
        timeout_s: Wall-clock budget of the model call.
        max_taste_chars: How much of the taste text enters the prompt.

    Returns:
        A :class:`RerankResult` whose items are a permutation of ``candidates``: the model's
        picks first (by its fit score), then the rest in base order without reasons.
    """
    start = time.perf_counter()
    candidates = _unique(candidates)
    base = base_ranking(candidates)

    def fallback(error: str | None) -> RerankResult:
        model = backend.model if backend is not None else TEMPLATE_MODEL
        return RerankResult(base, True, error, model, time.perf_counter() - start)

    shown = candidates[:MAX_MODEL_CANDIDATES]
    n = max(1, min(n, MAX_REASONS, len(shown)))
    if not candidates:
        return RerankResult([], False, None, TEMPLATE_MODEL, time.perf_counter() - start)
    if backend is None:
        return fallback(None)
    ids = [c.movie.movie_id for c in shown]
    messages = rerank_messages(
        profile, persona, history, shown, n=n, max_taste_chars=max_taste_chars
    )
    try:
        completion = backend.complete(
            messages,
            schema=rerank_schema(ids, n=n) if backend.supports_schema else None,
            max_tokens=_TOKENS_PER_ITEM.get(profile.language, 60) * n + 30,
            temperature=0.0,
            timeout_s=timeout_s,
        )
        picked = _valid_items(parse_reply(completion.text, RerankOut), set(ids), n)
    except LLMError as exc:
        return fallback(str(exc))
    except Exception as exc:  # a backend broke its contract; the page must still render
        log.exception("rerank backend %s failed", getattr(backend, "name", "?"))
        return fallback(f"{type(exc).__name__}: {exc}")
    if not picked:
        return fallback("The model's reply named none of the candidates.")

    _, names = _known(profile, history, candidates)
    history_titles = [m.title for m in history]
    title_of = {c.movie.movie_id: c.movie.title for c in candidates}
    position = {c.movie.movie_id: i for i, c in enumerate(candidates)}
    order = sorted(range(len(picked)), key=lambda k: (-picked[k].fit, k))
    items: list[RankedItem] = []
    any_cleaned = False
    seen_reasons: set[str] = set()
    for k in order:
        item = picked[k]
        # A reason may name its own movie and the viewer's watched movies, nothing else: small
        # models sometimes explain one candidate with another candidate's title.
        reason, cleaned = clean_free_text(
            item.reason,
            [title_of[item.id], *history_titles],
            allowed=names,
            max_chars=REASON_MAX_CHARS,
        )
        if reason and _names_other_candidate(reason, item.id, title_of, history_titles):
            reason, cleaned = "", True
        any_cleaned |= cleaned
        if reason in seen_reasons:  # small models repeat one reason for every pick
            reason = ""
        seen_reasons.add(reason)
        items.append(RankedItem(item.id, item.fit / 100.0, reason or None, position[item.id]))
    cap = min(i.fit_score for i in items)
    chosen = {i.movie_id for i in items}
    items.extend(
        RankedItem(b.movie_id, round(b.fit_score * cap, 4), None, b.base_rank)
        for b in base
        if b.movie_id not in chosen
    )
    return RerankResult(
        items, False, None, completion.model, time.perf_counter() - start, cleaned=any_cleaned
    )
