"""Rank candidates by the model's Yes/No answer to "Would this viewer enjoy <movie>?".

One prompt per candidate, all sharing the prefix (system message, viewer block, question): the
runtime evaluates the prefix once and, per candidate, only the compact line of catalog facts
(:func:`cinerec.llm.viewer.compact_line`). A candidate's log-odds is ``log P(Yes) - log P(No)``
for the first answer token (upper- and lower-case spellings together), read from the
next-token distribution: nothing is generated.

Small models say Yes to famous, well-liked movies whoever asks. With ``contrast=True`` (the
default) the score is the viewer's log-odds minus the movie's log-odds for a viewer we know
nothing about, so what remains is what this viewer's profile adds. The movie's part does not
depend on the viewer: it is computed once per model and movie and kept in a
:class:`PriorCache` (fill it ahead with :func:`warm_priors`).

Example:
    >>> result = yesno_scores(backend, profile, persona, history, candidates)  # doctest: +SKIP
    >>> result.order()[:3]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

import numpy as np

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import LLMBackend, Message, TokenScorer, can_score, guarded
from cinerec.llm.persona import UserProfile
from cinerec.llm.ranking.rerank import Candidate
from cinerec.llm.ranking.scoring import (
    ScoreResult,
    cannot_score,
    fallback_result,
    from_option_scores,
    unique,
    unscored_result,
)
from cinerec.llm.templates import render
from cinerec.llm.viewer import PLOT_CHARS, compact_line, viewer_messages

log = logging.getLogger(__name__)

METHOD = "yesno"
YES = ("Yes", "yes")
NO = ("No", "no")
OPTIONS = (*YES, *NO)


def yesno_prefix(profile: UserProfile, persona: str, history: Sequence[Movie]) -> list[Message]:
    """The shared prompt: viewer block, then the question; each candidate line follows it."""
    task = render("score_yesno_user").rstrip("\n") + " "
    return viewer_messages(profile, persona, history, task)


def generic_prefix() -> list[Message]:
    """The same prompt for a viewer we know nothing about (for the per-movie prior)."""
    return yesno_prefix(UserProfile(name=""), "", [])


class PriorCache:
    """Per (model, candidate line): the Yes/No log-odds for an unknown viewer. Thread-safe.

    Args:
        max_entries: Oldest entries are dropped beyond this many (a catalog is ~10k movies).
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._values: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, model: str, line: str) -> float | None:
        """The cached log-odds, or None."""
        return self._values.get((model, line))

    def put(self, model: str, line: str, value: float) -> None:
        """Remember one log-odds value."""
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values.pop(next(iter(self._values)))
            self._values[(model, line)] = value

    def save(self, path: Path) -> None:
        """Write every entry to a JSON file (so a restart need not score the catalog again)."""
        with self._lock:
            rows = [[m, line, v] for (m, line), v in self._values.items()]
        path.write_text(json.dumps({"version": 1, "priors": rows}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, max_entries: int = 50_000) -> PriorCache:
        """Read a file written by :meth:`save`; a missing or unreadable file gives an empty
        cache (the priors are recomputed on use)."""
        cache = cls(max_entries)
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))["priors"]
            for model, line, value in rows:
                cache.put(str(model), str(line), float(value))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("No usable yes/no priors in %s; they will be recomputed.", path)
        return cache


def _log_odds(logprobs: Sequence[dict[str, float]]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        yes = np.array([np.logaddexp.reduce([lp[o] for o in YES]) for lp in logprobs])
        no = np.array([np.logaddexp.reduce([lp[o] for o in NO]) for lp in logprobs])
        return yes - no


def warm_priors(
    backend: TokenScorer | LLMBackend,
    movies: Iterable[Movie],
    *,
    priors: PriorCache | None = None,
    plot_chars: int = PLOT_CHARS,
    timeout_s: float | None = None,
) -> int:
    """Compute and cache the unknown-viewer log-odds of ``movies`` that are not cached yet.

    Returns:
        How many were computed.

    Raises:
        LLMError: the backend cannot score, or failed.
    """
    cache = PriorCache() if priors is None else priors
    if not can_score(backend):
        raise LLMError(cannot_score(backend))
    scorer = cast(TokenScorer, backend)
    model = str(getattr(backend, "model", ""))
    lines = list(
        dict.fromkeys(
            line
            for line in (yesno_suffix(m, plot_chars=plot_chars) for m in movies)
            if cache.get(model, line) is None
        )
    )
    if not lines:
        return 0
    scored = scorer.score_next_tokens(generic_prefix(), lines, OPTIONS, timeout_s=timeout_s)
    if len(scored.logprobs) != len(lines):
        raise LLMError(f"The backend scored {len(scored.logprobs)} of {len(lines)} movies.")
    for line, value in zip(lines, _log_odds(scored.logprobs), strict=True):
        if np.isfinite(value):
            cache.put(model, line, float(value))
    return len(lines)


def yesno_suffix(movie: Movie, *, plot_chars: int = PLOT_CHARS) -> str:
    """What one candidate adds to :func:`yesno_prefix`: its compact line of facts."""
    return compact_line(movie, plot_chars=plot_chars)


def yesno_scores(
    backend: LLMBackend | None,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    candidates: Sequence[Candidate],
    *,
    timeout_s: float = 30.0,
    plot_chars: int = PLOT_CHARS,
    contrast: bool = True,
    priors: PriorCache | None = None,
) -> ScoreResult:
    """Score every candidate by the model's Yes/No log-odds; never raises for model errors.

    Args:
        backend: A backend that can score (see :func:`cinerec.llm.backends.base.can_score`);
            None, or one that cannot, gives the retriever order flagged as a fallback.
        profile: The viewer (``taste`` is quoted as untrusted data).
        persona: Persona text, may be empty.
        history: Watched movies, oldest first.
        candidates: Retriever output, best first (repeated ids are dropped).
        timeout_s: Wall-clock budget; checked between candidates.
        plot_chars: Length of the plot snippet per candidate (0: none).
        contrast: Subtract each movie's unknown-viewer log-odds (see the module docstring);
            movies not in ``priors`` are scored first, before the viewer's prompt, so the
            viewer's prefix stays in the KV cache for the next prompt.
        priors: Where the unknown-viewer log-odds are kept (the platform keeps one in
            ``platform.state.yesno_priors``; default: a new, empty one for this call).

    Returns:
        A :class:`~cinerec.llm.ranking.scoring.ScoreResult` whose ``scores`` are the (contrasted)
        log-odds; ``details`` has ``log_odds`` (the viewer's, uncontrasted), ``prior`` (the
        unknown viewer's, when ``contrast``), ``p_yes`` (P(Yes) over Yes and No, the viewer's)
        and ``yes_mass`` (P(Yes or No) over the vocabulary: near 1 when the model answers as
        asked).
    """
    start = time.perf_counter()
    candidates = unique(candidates)
    model = getattr(backend, "model", None)
    early = unscored_result(backend, candidates, METHOD, start)
    if early is not None:
        return early
    scorer = cast(TokenScorer, backend)
    cache = PriorCache() if priors is None else priors
    prefix = yesno_prefix(profile, persona, history)
    suffixes = [yesno_suffix(c.movie, plot_chars=plot_chars) for c in candidates]
    try:
        with guarded(backend, "yes/no scoring"):
            if contrast:
                left = None if timeout_s is None else timeout_s - (time.perf_counter() - start)
                warm_priors(
                    scorer,
                    [c.movie for c in candidates],
                    priors=cache,
                    plot_chars=plot_chars,
                    timeout_s=left,
                )
            left = None if timeout_s is None else timeout_s - (time.perf_counter() - start)
            scored = scorer.score_next_tokens(prefix, suffixes, OPTIONS, timeout_s=left)
            if len(scored.logprobs) != len(candidates):
                raise LLMError(
                    f"The backend scored {len(scored.logprobs)} of {len(candidates)} candidates."
                )
            with np.errstate(invalid="ignore"):  # non-finite scores are caught below
                yes = np.array(
                    [np.logaddexp.reduce([lp[o] for o in YES]) for lp in scored.logprobs]
                )
                no = np.array([np.logaddexp.reduce([lp[o] for o in NO]) for lp in scored.logprobs])
            prior = np.array(
                [cache.get(backend.model, s) for s in suffixes] if contrast else [], dtype=float
            )
            if contrast and not np.isfinite(prior).all():
                raise LLMError("The model gave no usable score for a movie on its own.")
    except LLMError as exc:  # a failure, or a broken contract: the page must still render
        return fallback_result(candidates, METHOD, model, str(exc), start)
    with np.errstate(invalid="ignore"):
        log_odds = yes - no
        mass = np.exp(np.logaddexp(yes, no))
    details = {
        "log_odds": log_odds.tolist(),
        "p_yes": (1.0 / (1.0 + np.exp(-log_odds))).tolist(),
        "yes_mass": mass.tolist(),
    }
    scores = log_odds
    if contrast:
        details["prior"] = prior.tolist()
        scores = log_odds - prior
    return from_option_scores(candidates, METHOD, scored, scores.tolist(), details, start)
