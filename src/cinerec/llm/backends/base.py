"""The protocols language-model runtimes implement.

Every backend implements :class:`LLMBackend` (one ``complete`` call, plus ``stream`` and
``count_tokens``). A backend whose running calls can be interrupted sets ``can_cancel = True``
and takes ``cancel=`` (a :class:`~cinerec.llm.backends.cancel.CancelToken`) in ``complete`` and
``stream``; :func:`~cinerec.llm.backends.cancel.can_cancel` checks it before a call passes one,
so backends without it (test doubles, other runtimes) keep working unchanged.

A backend that can also read the model's next-token probabilities implements
:class:`TokenScorer` and sets ``supports_scoring = True``; :func:`can_score` checks both before a
call. Callers decide by these capabilities, never by a backend's name.

:func:`guarded` is the one place where a backend that broke its contract (raised something other
than :class:`~cinerec.errors.LLMError`) is logged and turned into an LLMError, so every caller's
fallback handles both alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from cinerec.errors import LLMError
from cinerec.text.lang import HANGUL

log = logging.getLogger(__name__)

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

    Capabilities are attributes, checked before a call:

    - ``supports_schema``: ``complete(schema=...)`` constrains the output to the JSON schema.
    - ``can_stream``: ``stream`` yields pieces as they are generated (when False it may yield
      the whole answer at once; callers that show progress use ``complete`` instead).
    - ``caches_prefix``: the runtime keeps the last prompt's evaluated prefix in this process,
      so a warm-up call (``max_tokens=1``) makes the next call with the same start faster.

    ``count_tokens(text)`` is the runtime's own token count of ``text`` (a safe over-estimate
    when the runtime cannot tokenize locally); it never raises and is thread-safe.
    ``complete`` raises :class:`cinerec.errors.LLMError` on failure or timeout, never anything
    else.
    """

    name: str
    model: str
    supports_schema: bool
    can_stream: bool
    caches_prefix: bool

    def count_tokens(self, text: str) -> int: ...

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


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of Qwen-style tokens: ~3.5 characters each, one per Hangul syllable.

    Example:
        >>> estimate_tokens("감독") > estimate_tokens("ab")
        True
    """
    hangul = len(HANGUL.findall(text))
    return int((len(text) - hangul) / 3.5 + hangul) + 1


@contextmanager
def guarded(backend: object, what: str) -> Iterator[None]:
    """Turn a backend's broken contract into an :class:`~cinerec.errors.LLMError`.

    LLMError passes as is; any other exception raised in the block is logged with its traceback
    and re-raised as LLMError (``"TypeError: ..."``), so the caller's one ``except LLMError``
    gives the flagged fallback (the page must still render; a post is reported, never published).

    Example:
        >>> try:
        ...     with guarded(None, "demo"):
        ...         raise KeyError("choices")
        ... except LLMError as exc:
        ...     print(exc)
        KeyError: 'choices'
    """
    try:
        yield
    except LLMError:
        raise
    except Exception as exc:  # the backend broke its contract; callers fall back
        log.exception("%s with backend %s failed", what, getattr(backend, "name", "?"))
        raise LLMError(f"{type(exc).__name__}: {exc}") from exc
