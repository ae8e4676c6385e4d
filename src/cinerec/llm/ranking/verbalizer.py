"""Rank up to 20 candidates in one prompt by the model's next-token distribution over labels.

As in LlamaRec's verbalizer, the candidates are listed with labels ``A``, ``B``, ... and the
model is asked which one the viewer will enjoy most; the probability of each label as the first
answer token is that candidate's score (renormalised over the labels). Nothing is generated.

Small models prefer early labels whatever they mean (position bias). With ``debias=True`` the
list is also scored in reversed order, and a candidate's score is the mean of its two label
log-probabilities, so a pure position preference cancels out. Both passes share the viewer
prefix and the list header in the KV cache; the reversed pass costs the candidate lines again.

Example:
    >>> result = verbalizer_scores(backend, profile, persona, history, candidates)  # doctest: +SKIP
    >>> result.details["forward"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import cast

import numpy as np

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import LLMBackend, Message, TokenScorer, guarded
from cinerec.llm.persona import UserProfile
from cinerec.llm.ranking.rerank import Candidate
from cinerec.llm.ranking.scoring import (
    ScoreResult,
    fallback_result,
    from_option_scores,
    unique,
    unscored_result,
)
from cinerec.llm.templates import render
from cinerec.llm.viewer import PLOT_CHARS, compact_line, viewer_messages

log = logging.getLogger(__name__)

METHOD = "verbalizer"
LABELS = tuple("ABCDEFGHIJKLMNOPQRST")
MAX_CANDIDATES = len(LABELS)


def verbalizer_prefix(
    profile: UserProfile, persona: str, history: Sequence[Movie]
) -> list[Message]:
    """The shared prompt: viewer block, then the list header.

    Neither the header nor the question names the label range: "A to T" in the prompt made the
    model answer "T" for every viewer (measured with Qwen2.5-Coder-1.5B).
    """
    return viewer_messages(profile, persona, history, render("score_verbalizer_user"))


def verbalizer_suffix(movies: Sequence[Movie], *, plot_chars: int = PLOT_CHARS) -> str:
    """The labelled candidate lines and the question, for one order of the candidates."""
    lines = [f"{LABELS[i]}. {compact_line(m, plot_chars=plot_chars)}" for i, m in enumerate(movies)]
    return render("score_verbalizer_candidates", candidates="\n".join(lines)).rstrip("\n")


def _normalised(logprobs: dict[str, float], labels: Sequence[str]) -> np.ndarray:
    """Label log-probabilities renormalised over ``labels`` (log-softmax)."""
    values = np.array([logprobs[label] for label in labels], dtype=np.float64)
    return values - np.logaddexp.reduce(values)


def verbalizer_scores(
    backend: LLMBackend | None,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    candidates: Sequence[Candidate],
    *,
    debias: bool = True,
    timeout_s: float = 30.0,
    plot_chars: int = PLOT_CHARS,
) -> ScoreResult:
    """Score the first :data:`MAX_CANDIDATES` candidates in one prompt; never raises for model
    errors.

    Args:
        backend: A backend that can score; None, or one that cannot, gives the retriever order
            flagged as a fallback.
        profile: The viewer (``taste`` is quoted as untrusted data).
        persona: Persona text, may be empty.
        history: Watched movies, oldest first.
        candidates: Retriever output, best first; repeats are dropped and only the first 20
            are scored (the result covers those only).
        debias: Also score the reversed list and average (see the module docstring).
        timeout_s: Wall-clock budget, checked between the two passes.
        plot_chars: Length of the plot snippet per candidate (0: none).

    Returns:
        A :class:`~cinerec.llm.ranking.scoring.ScoreResult`; ``scores`` are label log-probabilities
        (averaged over both orders when ``debias``), ``details["forward"]`` the given order's
        alone, ``details["reversed"]`` the reversed order's (with ``debias``), and
        ``details["label_mass"]`` the probability the model put on any label, per pass.
    """
    start = time.perf_counter()
    candidates = unique(candidates)[:MAX_CANDIDATES]
    model = getattr(backend, "model", None)
    early = unscored_result(backend, candidates, METHOD, start)
    if early is not None:
        return early
    n = len(candidates)
    labels = LABELS[:n]
    movies = [c.movie for c in candidates]
    suffixes = [verbalizer_suffix(movies, plot_chars=plot_chars)]
    if debias and n > 1:
        suffixes.append(verbalizer_suffix(movies[::-1], plot_chars=plot_chars))
    prefix = verbalizer_prefix(profile, persona, history)
    try:
        with guarded(backend, "verbalizer scoring"):
            scorer = cast(TokenScorer, backend)
            scored = scorer.score_next_tokens(prefix, suffixes, labels, timeout_s=timeout_s)
            if len(scored.logprobs) != len(suffixes):
                raise LLMError(
                    f"The backend scored {len(scored.logprobs)} of {len(suffixes)} lists."
                )
            forward = _normalised(scored.logprobs[0], labels)
            mass = [
                float(np.exp(np.logaddexp.reduce([lp[x] for x in labels])))
                for lp in scored.logprobs
            ]
    except LLMError as exc:  # a failure, or a broken contract: the page must still render
        return fallback_result(candidates, METHOD, model, str(exc), start)
    details: dict[str, Sequence[float]] = {"forward": forward.tolist(), "label_mass": mass}
    scores = forward
    if len(suffixes) == 2:
        # In the reversed list candidate i sits at position n-1-i, under label LABELS[n-1-i].
        backward = _normalised(scored.logprobs[1], labels)[::-1]
        details["reversed"] = backward.tolist()
        scores = (forward + backward) / 2.0
    return from_option_scores(candidates, METHOD, scored, scores.tolist(), details, start)
