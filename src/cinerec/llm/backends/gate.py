"""A priority gate in front of the language model: pages first, waits bounded, streams buffered.

One model (an embedded llama.cpp, or a server with ``N`` parallel slots) serves page reasons,
chat answers and background warm-ups. :class:`PriorityGate` hands out its ``slots`` to waiting
calls in order of :class:`Priority` (a page reason before a chat turn before a warm-up), and
within one class to the job that has had fewer calls so far, then first come first served: the
first reason of a new page goes before the fourth reason of an older one. Warm-ups only use a
model without contention (``warmup_quiet_s``). Every wait has a
deadline (the call's own ``timeout_s``, capped by the class's ``max_wait_s``); past it the call
raises :class:`ModelBusy`, an :class:`~cinerec.errors.LLMError`, so every caller's existing
fallback applies (a page shows "reasons unavailable", never an error). A waiting warm-up never
goes before a page; a warm-up already running finishes (one short prompt evaluation).

A call can be interrupted by whoever waits for it: ``complete`` and ``stream`` take a
:class:`~cinerec.llm.backends.cancel.CancelToken` (``cancel=``). Once it is cancelled (the page's
deadline passed, the web client disconnected, the job was cancelled) a waiting call leaves the
queue, and a running one stops within about one token on a backend that says ``can_cancel``
(the embedded llama.cpp checks the token after every token; the HTTP backend closes its stream,
and llama-server frees the slot), so the slot goes to the next waiter. The call raises
:class:`~cinerec.llm.backends.cancel.Cancelled`, an LLMError: the caller's usual flagged
fallback. (Prompt evaluation itself is not interrupted: the token is checked before it starts
and after it ends.)

:class:`GatedBackend` puts a backend behind a gate at one priority. Its ``stream`` holds a slot
only while the model generates: a producer thread drains the backend into a queue and gives the
slot back when generation ends, however slowly the client reads; a reader that stops early (the
web client went away) cancels the generation, which ends at the next token.

The gate and its views are owned by the :class:`~cinerec.services.platform.Platform` (one per
process); nothing here is module-level state.

Example:
    >>> gate = PriorityGate(slots=1, max_wait_s={Priority.WARMUP: 0.01})
    >>> with gate.slot(Priority.PAGE):
    ...     try:
    ...         gate.acquire(Priority.WARMUP)
    ...     except ModelBusy as exc:
    ...         print("busy:", exc.priority.name)
    busy: WARMUP
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, LLMBackend, Message, OptionScores, can_score
from cinerec.llm.backends.cancel import CancelToken, cancel_kwargs


class Priority(IntEnum):
    """Who goes first when the model is busy (lower first)."""

    PAGE = 0
    """A recommendation page's reasons: a viewer is looking at the cards."""
    CHAT = 1
    """A chat turn, a post, a persona: a person waits, but not on a page of cards."""
    WARMUP = 2
    """Background work that only saves time later (prompt warm-ups, conversation upkeep)."""


class ModelBusy(LLMError):
    """No model slot came free before the wait's deadline."""

    def __init__(self, priority: Priority, waited_s: float) -> None:
        super().__init__(
            f"The language model is busy with other requests (waited {waited_s:.1f} s for a "
            f"{priority.name.lower()} slot); try again shortly."
        )
        self.priority = priority
        self.waited_s = waited_s


@dataclass
class GateStats:
    """Counters of one gate (for benchmarks and the dashboard)."""

    granted: dict[Priority, int] = field(default_factory=lambda: dict.fromkeys(Priority, 0))
    busy: dict[Priority, int] = field(default_factory=lambda: dict.fromkeys(Priority, 0))
    waited_s: dict[Priority, float] = field(default_factory=lambda: dict.fromkeys(Priority, 0.0))


DEFAULT_MAX_WAIT_S: Mapping[Priority, float] = {
    Priority.PAGE: 10.0,
    Priority.CHAT: 20.0,
    Priority.WARMUP: 2.0,
}


class PriorityGate:
    """``slots`` model calls at once; waiting calls ordered by priority, each wait bounded.

    Args:
        slots: Calls the model serves at once (1 for the embedded model; a server's parallel
            slots, e.g. ``llama-server --parallel N``).
        max_wait_s: Longest wait per class (missing classes use :data:`DEFAULT_MAX_WAIT_S`).
        warmup_quiet_s: A warm-up is refused at once (:class:`ModelBusy`) while a page or chat
            call waits or runs, and for this long after one last had to wait for a slot: a page
            does not cancel a running warm-up (only a shutdown does), so under contention
            warm-ups stay out of the way (a lone
            viewer's calls never wait, so their warm-ups still run).
    """

    def __init__(
        self,
        slots: int = 1,
        max_wait_s: Mapping[Priority, float] | None = None,
        *,
        warmup_quiet_s: float = 0.0,
    ):
        if slots < 1:
            raise ValueError("A model gate needs at least one slot.")
        self.slots = slots
        self.max_wait_s = {**DEFAULT_MAX_WAIT_S, **(max_wait_s or {})}
        self.warmup_quiet_s = warmup_quiet_s
        self.stats = GateStats()
        self._active = 0  # page and chat calls waiting or running
        self._contended = float("-inf")  # when one of them last found no free slot
        self._free = slots
        self._waiting: list[tuple[int, int, int]] = []  # heap of (priority, job calls, seq)
        self._seq = itertools.count()
        self._cond = threading.Condition()

    @property
    def waiting(self) -> int:
        """Calls waiting for a slot now."""
        with self._cond:
            return len(self._waiting)

    @property
    def busy(self) -> int:
        """Slots in use now."""
        with self._cond:
            return self.slots - self._free

    def acquire(
        self,
        priority: Priority,
        *,
        wait_s: float | None = None,
        job_calls: int = 0,
        cancel: CancelToken | None = None,
    ) -> float:
        """Wait for a slot (at most ``wait_s``, capped by the class's limit); returns the seconds
        waited. ``job_calls`` (calls the same job already had) orders waiters of one class.
        A waiter whose ``cancel`` token is cancelled leaves the queue within 50 ms.

        Raises:
            ModelBusy: no slot came free in time (nothing is held then).
            Cancelled: ``cancel`` was cancelled while waiting (nothing is held then).
        """
        start = time.monotonic()
        limit = self.max_wait_s[priority]
        if wait_s is not None:
            limit = min(limit, wait_s)
        deadline = start + limit
        ticket = (int(priority), job_calls, next(self._seq))
        high = priority < Priority.WARMUP
        with self._cond:
            if not high and (
                self._active or time.monotonic() - self._contended < self.warmup_quiet_s
            ):
                self.stats.busy[priority] += 1
                raise ModelBusy(priority, 0.0)
            if high:
                self._active += 1
            heapq.heappush(self._waiting, ticket)
            try:
                while not (self._free > 0 and self._waiting[0] == ticket):
                    if high:
                        self._contended = time.monotonic()
                    left = deadline - time.monotonic()
                    if left <= 0:
                        waited = time.monotonic() - start
                        self.stats.busy[priority] += 1
                        raise ModelBusy(priority, waited)
                    if cancel is not None:
                        cancel.check("The wait for a model slot")
                        left = min(left, _CANCEL_POLL_S)
                    self._cond.wait(left)
            except BaseException:
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                if high:
                    self._end_active()
                self._cond.notify_all()  # the next waiter may be first now
                raise
            heapq.heappop(self._waiting)
            self._free -= 1
            waited = time.monotonic() - start
            self.stats.granted[priority] += 1
            self.stats.waited_s[priority] += waited
            self._cond.notify_all()  # another free slot may go to the next waiter
        return waited

    def release(self, priority: Priority = Priority.WARMUP) -> None:
        """Give back a slot taken at ``priority``."""
        with self._cond:
            if self._free >= self.slots:
                raise RuntimeError("A model slot was released more often than acquired.")
            self._free += 1
            if priority < Priority.WARMUP:
                self._end_active()
            self._cond.notify_all()

    def _end_active(self) -> None:
        self._active -= 1

    @contextmanager
    def slot(
        self,
        priority: Priority,
        *,
        wait_s: float | None = None,
        job_calls: int = 0,
        cancel: CancelToken | None = None,
    ) -> Iterator[float]:
        """Hold a slot for a ``with`` block; yields the seconds waited."""
        waited = self.acquire(priority, wait_s=wait_s, job_calls=job_calls, cancel=cancel)
        try:
            yield waited
        finally:
            self.release(priority)


_END = object()
CLOSE_WAIT_S = 0.5  # how long a reader that stops early waits for the producer to let go
_CANCEL_POLL_S = 0.05  # how often a waiter (or a stream's reader) looks at its cancel token


class GatedBackend:
    """``backend`` behind ``gate`` at ``priority``; implements the same protocols.

    One view is one job: its calls count toward ``job_calls``, so of two waiting page reasons the
    one from the page with fewer reasons written goes first. :meth:`at` gives a new job's view
    (same backend, same gate). Capabilities and other attributes (``load``, ``loaded``) are the
    backend's own. ``stall_s`` bounds the wait for the next streamed piece.
    """

    def __init__(
        self,
        backend: LLMBackend,
        gate: PriorityGate,
        priority: Priority = Priority.CHAT,
        *,
        stall_s: float = 90.0,
    ) -> None:
        self.inner = backend
        self.gate = gate
        self.priority = priority
        self.stall_s = stall_s
        self._calls = 0
        self._calls_lock = threading.Lock()

    def at(self, priority: Priority) -> GatedBackend:
        """A view of the same backend and gate for a new job at ``priority``."""
        return GatedBackend(self.inner, self.gate, priority, stall_s=self.stall_s)

    # Capabilities are the backend's own.
    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def supports_schema(self) -> bool:
        return self.inner.supports_schema

    @property
    def can_stream(self) -> bool:
        return self.inner.can_stream

    @property
    def caches_prefix(self) -> bool:
        return self.inner.caches_prefix

    @property
    def supports_scoring(self) -> bool:
        return can_score(self.inner)

    @property
    def can_cancel(self) -> bool:
        """Always: a cancelled call leaves the queue, and a stream stops at its next piece; a
        running ``complete`` stops early only when the backend itself ``can_cancel``."""
        return True

    def count_tokens(self, text: str) -> int:
        """The backend's count (tokenizing needs no model slot)."""
        return self.inner.count_tokens(text)

    def __getattr__(self, name: str) -> Any:  # load(), loaded, clear_cache(), ...
        if name == "inner":  # not set yet (during unpickling/copy): avoid recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _slot(self, timeout_s: float | None, cancel: CancelToken | None = None) -> Any:
        with self._calls_lock:
            calls = self._calls
            self._calls += 1
        return self.gate.slot(self.priority, wait_s=timeout_s, job_calls=calls, cancel=cancel)

    def _cancel_arg(self, cancel: CancelToken | None) -> dict[str, CancelToken]:
        """``cancel=`` for the backend, when there is a token and the backend takes one."""
        return cancel_kwargs(self.inner, cancel)

    @staticmethod
    def _left(timeout_s: float | None, waited: float) -> float | None:
        return None if timeout_s is None else max(timeout_s - waited, 0.001)

    def complete(
        self,
        messages: list[Message],
        *,
        timeout_s: float | None = None,
        cancel: CancelToken | None = None,
        **generation: Any,
    ) -> Completion:
        """The backend's ``complete`` once a slot is free; the wait counts toward ``timeout_s``.

        ``generation`` (``schema``, ``max_tokens``, ``temperature``) goes to the backend as
        given, so its own defaults apply. ``cancel`` ends the wait, and the call itself on a
        backend that ``can_cancel`` (raising :class:`Cancelled`).
        """
        with self._slot(timeout_s, cancel) as waited:
            completion = self.inner.complete(
                messages,
                timeout_s=self._left(timeout_s, waited),
                **self._cancel_arg(cancel),
                **generation,
            )
        completion.extra["queue_s"] = waited
        return completion

    def score_next_tokens(
        self,
        prefix: list[Message] | str,
        suffixes: Sequence[str],
        options: Sequence[str],
        *,
        timeout_s: float | None = None,
    ) -> OptionScores:
        """The backend's scoring once a slot is free (LLMError when it cannot score)."""
        if not can_score(self.inner):
            raise LLMError(f"The {self.inner.name} backend cannot score next tokens.")
        with self._slot(timeout_s) as waited:
            scored = self.inner.score_next_tokens(  # type: ignore[attr-defined]
                prefix, suffixes, options, timeout_s=self._left(timeout_s, waited)
            )
        scored.extra["queue_s"] = waited
        return scored

    def stream(
        self, messages: list[Message], *, cancel: CancelToken | None = None, **generation: Any
    ) -> Iterator[str]:
        """Stream from the backend (``max_tokens``, ``temperature`` passed on as given), holding
        a slot only while it generates.

        A producer thread reads the backend into a queue and releases the slot when generation
        ends. Closing this iterator early, or cancelling ``cancel``, stops the generation: a
        backend that ``can_cancel`` gets a token of its own and stops at its next token (any
        other backend at its next piece), and the slot goes to the next waiter. Raises
        :class:`ModelBusy` at once when no slot comes free in time, :class:`Cancelled` (while
        reading) once ``cancel`` is cancelled, and LLMError (while reading) when no piece
        arrives within ``stall_s``.
        """
        slot = self._slot(None, cancel)
        slot.__enter__()  # waits here, before the first piece is asked for
        pieces: queue.SimpleQueue[object] = queue.SimpleQueue()
        run = CancelToken(parent=cancel)  # cancelled by the caller, or by the reader leaving

        def produce() -> None:
            try:
                source = self.inner.stream(messages, **self._cancel_arg(run), **generation)
                try:
                    for piece in source:
                        pieces.put(piece)
                        if run.cancelled:
                            break
                finally:
                    close = getattr(source, "close", None)
                    if close is not None:
                        close()
                if cancel is not None and cancel.cancelled:
                    run.check("The model's stream")
                pieces.put(_END)
            except BaseException as exc:  # noqa: BLE001 - handed to the reader, not swallowed
                pieces.put(exc)
            finally:
                slot.__exit__(None, None, None)

        producer = threading.Thread(target=produce, name="cinerec-llm-stream", daemon=True)
        producer.start()
        return self._read(pieces, run, producer, cancel)

    def _read(
        self,
        pieces: queue.SimpleQueue[object],
        run: CancelToken,
        producer: threading.Thread,
        cancel: CancelToken | None,
    ) -> Iterator[str]:
        try:
            while True:
                item = self._next_piece(pieces, cancel)
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield str(item)
        finally:
            run.cancel("the reader stopped")
            # A reader that stops early: the producer stops the generation at its next token
            # (a backend without cancel support: at its next piece); wait that long so the model
            # is free when this returns.
            producer.join(CLOSE_WAIT_S)

    def _next_piece(self, pieces: queue.SimpleQueue[object], cancel: CancelToken | None) -> object:
        """The producer's next item; Cancelled once ``cancel`` is, LLMError after ``stall_s``."""
        end = time.monotonic() + self.stall_s
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise LLMError(
                    f"The model sent nothing for {self.stall_s:.0f} s; raise llm_timeout_s "
                    "or check the model server."
                )
            if cancel is not None:
                cancel.check("The model's stream")
                left = min(left, _CANCEL_POLL_S)
            try:
                return pieces.get(timeout=left)
            except queue.Empty:
                continue
