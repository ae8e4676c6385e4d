"""A fake language-model backend with queued replies, usable by any test.

from tests.llm.fakes import FakeBackend, FakeReply

backend = FakeBackend(['{"persona": "Ann loves crime films."}'])
backend.calls[0].messages  # what the code under test sent

Scoring (:class:`cinerec.llm.backends.base.TokenScorer`) is off unless a ``scorer`` is given: a
function from the full prompt text and the options to option log-probabilities:

backend = FakeBackend(scorer=lambda prompt, options: {"Yes": -0.1 if "Heat" in prompt else -3,
                                                      "No": -1.0})
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, Message, OptionScores, estimate_tokens
from cinerec.llm.backends.cancel import CancelToken

Scorer = Callable[[str, Sequence[str]], dict[str, float]]


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
class FakeScoreCall:
    """One recorded ``score_next_tokens`` call."""

    prefix: list[Message] | str
    suffixes: list[str]
    options: list[str]
    timeout_s: float | None


def render_prompt(prefix: list[Message] | str, suffix: str) -> str:
    """The fake's prompt text: ``role: content`` lines with the suffix appended to the last."""
    if isinstance(prefix, str):
        return prefix + suffix
    return "\n".join(f"{m.role}: {m.content}" for m in prefix) + suffix


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
    caches_prefix: bool = False
    name: str = "fake"
    calls: list[FakeCall] = field(default_factory=list)
    scorer: Scorer | None = None
    score_delay_s: float = 0.0
    score_calls: list[FakeScoreCall] = field(default_factory=list)

    @property
    def supports_scoring(self) -> bool:
        """True when a ``scorer`` was given."""
        return self.scorer is not None

    def score_next_tokens(
        self,
        prefix: list[Message] | str,
        suffixes: Sequence[str],
        options: Sequence[str],
        *,
        timeout_s: float | None = None,
    ) -> OptionScores:
        """Score each prompt with ``scorer`` (``score_delay_s`` per prompt, deadline checked
        between prompts); an option the scorer leaves out gets -30."""
        start = time.perf_counter()
        self.score_calls.append(FakeScoreCall(prefix, list(suffixes), list(options), timeout_s))
        if self.scorer is None:
            raise LLMError("FakeBackend has no scorer; pass scorer=... in the test.")
        if not options or not suffixes:
            raise LLMError("Scoring needs at least one suffix and one option.")
        results = []
        for k, suffix in enumerate(suffixes):
            if timeout_s is not None and time.perf_counter() - start > timeout_s:
                raise LLMError(f"FakeBackend timed out scoring after {k} prompts.")
            time.sleep(self.score_delay_s)
            scores = self.scorer(render_prompt(prefix, suffix), list(options))
            results.append({o: float(scores.get(o, -30.0)) for o in options})
        words = sum(len(render_prompt(prefix, s).split()) for s in suffixes)
        return OptionScores(
            logprobs=results,
            model=self.model,
            prompt_tokens=words,
            evaluated_tokens=words,
            elapsed_s=time.perf_counter() - start,
        )

    def count_tokens(self, text: str) -> int:
        """The character estimate (a fake has no tokenizer)."""
        return estimate_tokens(text)

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


@dataclass
class TokenFake:
    """A model that writes one word every ``token_s`` seconds and honours a cancel token
    (``can_cancel``), like the real backends: it checks the token after every word.

    ``generated`` counts the words of the last call; ``running`` is set while a call generates.
    """

    token_s: float = 0.01
    model: str = "token-fake"
    name: str = "token-fake"
    supports_schema: bool = True
    can_stream: bool = True
    caches_prefix: bool = False
    can_cancel: bool = True
    generated: int = 0
    running: threading.Event = field(default_factory=threading.Event)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _words(self, max_tokens: int, timeout_s: float | None, cancel: Any) -> Iterator[str]:
        token = cancel.within(timeout_s) if cancel is not None else CancelToken.after(timeout_s)
        self.generated = 0
        self.running.set()
        try:
            for k in range(max_tokens):
                time.sleep(self.token_s)
                token.check("TokenFake", tokens=k)
                self.generated += 1
                yield f"word{k} "
        finally:
            self.running.clear()

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
        cancel: Any = None,
    ) -> Completion:
        start = time.perf_counter()
        text = "".join(self._words(max_tokens, timeout_s, cancel))
        if schema is not None:
            text = json.dumps({"reason": text.strip()})
        return Completion(text=text, model=self.model, elapsed_s=time.perf_counter() - start)

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        cancel: Any = None,
    ) -> Iterator[str]:
        yield from self._words(max_tokens, None, cancel)
