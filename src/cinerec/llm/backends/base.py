"""The protocol every language-model runtime implements: one ``complete`` call."""

from __future__ import annotations

from collections.abc import Iterator
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
