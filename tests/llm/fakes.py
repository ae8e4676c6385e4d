"""A fake language-model backend with queued replies, usable by any test.

from tests.llm.fakes import FakeBackend, FakeReply

backend = FakeBackend(['{"persona": "Ann loves crime films."}'])
backend.calls[0].messages  # what the code under test sent
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, Message


@dataclass(frozen=True)
class FakeReply:
    """A queued reply: ``text`` returned after ``delay_s`` (an LLMError if that exceeds the
    call's ``timeout_s``)."""

    text: str
    delay_s: float = 0.0


@dataclass
class FakeCall:
    """One recorded call."""

    messages: list[Message]
    schema: dict[str, Any] | None
    max_tokens: int
    temperature: float
    timeout_s: float | None


@dataclass
class FakeBackend:
    """Implements :class:`cinerec.llm.backends.base.LLMBackend` from a queue of replies.

    Queue items are strings, :class:`FakeReply` or exceptions (raised as is). An empty queue
    raises LLMError, so a test notices an unexpected extra call.
    """

    replies: list[str | FakeReply | BaseException] = field(default_factory=list)
    model: str = "fake-model"
    supports_schema: bool = True
    can_stream: bool = True
    name: str = "fake"
    calls: list[FakeCall] = field(default_factory=list)

    def queue(self, *replies: str | FakeReply | BaseException) -> None:
        """Append replies to the queue."""
        self.replies.extend(replies)

    def _next(self, timeout_s: float | None) -> str:
        if not self.replies:
            raise LLMError("FakeBackend has no queued reply; queue one in the test.")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, str):
            return reply
        if timeout_s is not None and reply.delay_s > timeout_s:
            time.sleep(min(timeout_s, 0.05))
            raise LLMError(f"FakeBackend timed out after {timeout_s} s.")
        time.sleep(reply.delay_s)
        return reply.text

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Completion:
        """Record the call and return the next queued reply."""
        start = time.perf_counter()
        self.calls.append(FakeCall(list(messages), schema, max_tokens, temperature, timeout_s))
        text = self._next(timeout_s)
        return Completion(text=text, model=self.model, elapsed_s=time.perf_counter() - start)

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield the next queued reply in three pieces."""
        self.calls.append(FakeCall(list(messages), None, max_tokens, temperature, None))
        text = self._next(None)
        step = max(1, len(text) // 3)
        yield from (text[i : i + step] for i in range(0, len(text), step))

    @property
    def last_user_message(self) -> str:
        """Content of the last user message of the last call."""
        return [m for m in self.calls[-1].messages if m.role == "user"][-1].content

    def queued(self) -> Iterable[str | FakeReply | BaseException]:
        """What is still queued."""
        return tuple(self.replies)
