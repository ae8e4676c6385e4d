"""What the probability-based rankers return, shared by :mod:`~cinerec.llm.ranking.yesno` and
:mod:`~cinerec.llm.ranking.verbalizer`.

A ranker never raises for model errors: it returns a :class:`ScoreResult` whose ``fallback`` is
True and whose order is the retriever's, with ``error`` saying why.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cinerec.llm.backends.base import OptionScores, can_score
from cinerec.llm.persona import TEMPLATE_MODEL
from cinerec.llm.ranking.rerank import Candidate


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Model scores for candidates given in retriever order.

    Attributes:
        movie_ids: The scored candidates, in the given (retriever) order, without repeats.
        scores: One model score per candidate (higher: the model likes it more); all 0.0 on a
            fallback.
        method: ``"yesno"`` or ``"verbalizer"``.
        model: The model that scored (``"template"`` when there was no backend).
        fallback: True when the model was not used; :meth:`order` is then the retriever's.
        error: Why the model was not used (None when no backend was configured).
        elapsed_s: Seconds for the whole call.
        prefix_s: Seconds spent evaluating the shared prompt prefix (0 when it was cached).
        prompt_tokens: Tokens in all prompts together.
        evaluated_tokens: Tokens the model actually ran (the rest came from its cache).
        details: Per-candidate extras (e.g. ``p_yes``, or the ``forward``/``reversed`` passes).
    """

    movie_ids: tuple[int, ...]
    scores: tuple[float, ...]
    method: str
    model: str
    fallback: bool
    error: str | None
    elapsed_s: float
    prefix_s: float = 0.0
    prompt_tokens: int = 0
    evaluated_tokens: int = 0
    details: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def order(self) -> list[int]:
        """Movie ids by model score, best first; ties keep the retriever order."""
        ranked = sorted(range(len(self.movie_ids)), key=lambda i: (-self.scores[i], i))
        return [self.movie_ids[i] for i in ranked]


def unique(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates without repeated movie ids (first occurrence wins)."""
    seen: set[int] = set()
    out = []
    for c in candidates:
        if c.movie.movie_id not in seen:
            seen.add(c.movie.movie_id)
            out.append(c)
    return out


def empty_result(method: str, model: str | None, start: float) -> ScoreResult:
    """The result for no candidates at all (not a fallback: there was nothing to rank)."""
    return ScoreResult(
        (), (), method, model or TEMPLATE_MODEL, False, None, time.perf_counter() - start
    )


def fallback_result(
    candidates: Sequence[Candidate], method: str, model: str | None, error: str | None, start: float
) -> ScoreResult:
    """The retriever order, flagged (``start`` is the call's ``perf_counter`` start)."""
    ids = tuple(c.movie.movie_id for c in candidates)
    return ScoreResult(
        movie_ids=ids,
        scores=(0.0,) * len(ids),
        method=method,
        model=model or TEMPLATE_MODEL,
        fallback=True,
        error=error,
        elapsed_s=time.perf_counter() - start,
    )


def cannot_score(backend: object) -> str:
    """Why ``backend`` gives no scores: it cannot score candidates."""
    return f"The {getattr(backend, 'name', '?')} backend cannot score candidates."


def unscored_result(
    backend: object, candidates: Sequence[Candidate], method: str, start: float
) -> ScoreResult | None:
    """The result when there is nothing to score with: no candidates (:func:`empty_result`),
    no backend or one that cannot score (:func:`fallback_result`); None when scoring can go on.
    """
    model = getattr(backend, "model", None)
    if not candidates:
        return empty_result(method, model, start)
    if backend is None:
        return fallback_result(candidates, method, None, None, start)
    if not can_score(backend):
        return fallback_result(candidates, method, model, cannot_score(backend), start)
    return None


def from_option_scores(
    candidates: Sequence[Candidate],
    method: str,
    scored: OptionScores,
    scores: Sequence[float],
    details: Mapping[str, Sequence[float]],
    start: float,
) -> ScoreResult:
    """A successful result; non-finite scores make it a fallback instead."""
    if not all(math.isfinite(s) for s in scores):
        return fallback_result(
            candidates, method, scored.model, "The model returned non-finite scores.", start
        )
    return ScoreResult(
        movie_ids=tuple(c.movie.movie_id for c in candidates),
        scores=tuple(float(s) for s in scores),
        method=method,
        model=scored.model,
        fallback=False,
        error=None,
        elapsed_s=time.perf_counter() - start,
        prefix_s=scored.prefix_s,
        prompt_tokens=scored.prompt_tokens,
        evaluated_tokens=scored.evaluated_tokens,
        details={k: tuple(float(x) for x in v) for k, v in details.items()},
    )
