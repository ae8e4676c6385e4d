"""The protocols language-model runtimes implement.

Every backend implements :class:`LLMBackend` (one ``complete`` call, plus ``stream``). A backend
that can also read the model's next-token probabilities implements :class:`TokenScorer` and sets
``supports_scoring = True``; :func:`can_score` checks both before a call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Completion:
    """What a backend returns: the text, which model made it, and how long it took."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class LLMBackend(Protocol):
    """A language-model runtime.

    Capabilities are class attributes, checked before a call:
    ``supports_schema`` (JSON-schema constrained output) and ``can_stream``.
    ``complete`` raises :class:`cinerec.errors.LLMError` on failure or timeout, never anything
    else.
    """

    name: str
    model: str
    supports_schema: bool
    can_stream: bool

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Completion: ...

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Iterator[str]: ...


@dataclass(frozen=True, slots=True)
class OptionScores:
    """What :meth:`TokenScorer.score_next_tokens` returns.

    Attributes:
        logprobs: One dict per suffix (same order): option -> log-probability of the option's
            first token as the next token, over the whole vocabulary (raw, not renormalised over
            the options; callers renormalise when they need to).
        model: Which model scored.
        prompt_tokens: Tokens in all scored prompts together (prefix counted once per suffix).
        evaluated_tokens: Tokens the model actually ran (the rest came from the KV cache).
        reused_tokens: Prompt tokens taken from the KV cache instead of being evaluated.
        prefix_s: Seconds spent bringing the shared prefix into the cache (0 when reused).
        elapsed_s: Seconds for the whole call, lock wait included.
        extra: Backend-specific details (e.g. which options an HTTP server left out).
    """

    logprobs: list[dict[str, float]]
    model: str
    prompt_tokens: int = 0
    evaluated_tokens: int = 0
    reused_tokens: int = 0
    prefix_s: float = 0.0
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class TokenScorer(Protocol):
    """A runtime that scores a few answer options for many prompts sharing one prefix.

    Prompt ``i`` is the prefix followed by ``suffixes[i]``: for a string prefix the two are
    simply joined; for chat messages ``suffixes[i]`` is appended to the content of the last
    message, which must be a user message, and the assistant turn is opened after it (exactly as
    a chat completion would see it). The shared prefix is evaluated once and kept: a runtime
    with a KV cache reuses the longest cached token prefix, so the next call for the same viewer
    (the next page, or a generation that starts with the same messages) skips it.

    For each prompt the result holds, per option, the log-probability that the model's next
    token is the option's first token (a leading-space variant of the option counts too). The
    values are raw log-probabilities over the whole vocabulary; see :class:`OptionScores`.

    ``score_next_tokens`` raises :class:`cinerec.errors.LLMError` on any failure, including the
    ``timeout_s`` deadline (checked between suffixes), never anything else.
    """

    supports_scoring: bool

    def score_next_tokens(
        self,
        prefix: list[Message] | str,
        suffixes: Sequence[str],
        options: Sequence[str],
        *,
        timeout_s: float | None = None,
    ) -> OptionScores: ...


def can_score(backend: object) -> bool:
    """Whether ``backend`` implements :class:`TokenScorer` and says it can score now."""
    return isinstance(backend, TokenScorer) and bool(getattr(backend, "supports_scoring", False))
