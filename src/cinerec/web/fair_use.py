"""Fair use of the one language model: per-session rate limits and a bounded queue.

Every request that calls the model (a recommendation page, a chat turn, a post) first takes a
ticket from the app's :class:`ModelGate`:

- at most ``model_rate_per_minute`` such requests per session in any 60 s (a moving window,
  counted by the ``limits`` library, in memory or in Redis for several web workers);
- at most ``model_session_concurrency`` of them running at once per session;
- at most ``model_queue`` running or waiting at once over all sessions of this process.

Past any of them the answer is ``429 Too Many Requests`` at once, with ``Retry-After``, instead
of a wait behind the model. A streamed answer keeps its ticket until the stream ends.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cinerec.config import Settings
from cinerec.errors import CinerecError


class TooManyRequests(CinerecError):
    """A model-calling request past the session's rate or the queue bound (429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


@dataclass
class Ticket:
    """A place in the model queue; :meth:`release` gives it back (idempotent)."""

    gate: ModelGate
    key: str
    taken_at: float = field(default_factory=time.monotonic)
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.gate._release(self)


class ModelGate:
    """The rate limits and the queue bound of one web process (owned by the app state)."""

    def __init__(self, settings: Settings) -> None:
        self._rate = RateLimitItemPerMinute(settings.model_rate_per_minute)
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        self._per_session = settings.model_session_concurrency
        self._queue = settings.model_queue
        # A ticket whose stream was dropped without closing frees its place after this long.
        self._max_hold_s = 3 * settings.llm_timeout_s
        self._lock = threading.Lock()
        self._held: list[Ticket] = []

    def _live(self) -> list[Ticket]:
        """Tickets still held (caller holds the lock); forgets ones held past the limit."""
        now = time.monotonic()
        self._held = [t for t in self._held if now - t.taken_at < self._max_hold_s]
        return self._held

    @property
    def in_flight(self) -> int:
        """Model-calling requests holding a ticket now."""
        with self._lock:
            return len(self._live())

    def acquire(self, key: str) -> Ticket:
        """A ticket for session ``key``, or :class:`TooManyRequests` at once.

        The queue and concurrency bounds are checked before the rate, so a refused request
        does not use up the session's allowance.
        """
        with self._lock:
            held = self._live()
            if len(held) >= self._queue:
                raise TooManyRequests(
                    "The model is busy with other viewers; try again in a few seconds.",
                    retry_after=5,
                )
            if sum(1 for t in held if t.key == key) >= self._per_session:
                raise TooManyRequests(
                    "Your previous request is still being answered; wait for it to finish.",
                    retry_after=2,
                )
            if not self._limiter.hit(self._rate, key):
                reset = self._limiter.get_window_stats(self._rate, key).reset_time
                raise TooManyRequests(
                    f"That is more than {self._rate.amount} requests to the model in a minute; "
                    "try again shortly.",
                    retry_after=math.ceil(max(1.0, reset - time.time())),
                )
            ticket = Ticket(self, key)
            held.append(ticket)
        return ticket

    def limit(self, key: str, *, per_minute: int) -> None:
        """Only a rate, no queue place: at most ``per_minute`` calls for ``key`` in 60 s (e.g.
        recovery-code attempts per client)."""
        item = RateLimitItemPerMinute(per_minute)
        if not self._limiter.hit(item, key):
            reset = self._limiter.get_window_stats(item, key).reset_time
            raise TooManyRequests(
                "Too many attempts; try again in a minute.",
                retry_after=math.ceil(max(1.0, reset - time.time())),
            )

    def _release(self, ticket: Ticket) -> None:
        with self._lock:
            self._held = [t for t in self._held if t is not ticket]

    @contextmanager
    def hold(self, key: str) -> Iterator[Ticket]:
        """Hold a ticket for the duration of a ``with`` block."""
        ticket = self.acquire(key)
        try:
            yield ticket
        finally:
            ticket.release()
