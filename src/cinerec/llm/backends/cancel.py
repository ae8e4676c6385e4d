"""A cancel token: how a caller that gives up stops the model call it started.

Whoever waits for a model call (a page with a deadline, a web client reading a stream, a job)
holds a :class:`CancelToken` and passes it as ``cancel=`` to ``complete`` or ``stream`` of a
backend that says ``can_cancel`` (:func:`can_cancel`). The token is cancelled by
:meth:`CancelToken.cancel` (the client disconnected, the job was cancelled) or when its
deadline passes; the backend checks it after every generated token and stops, so the model slot
is free for the next waiter within about one token, and the call raises :class:`Cancelled` (an
:class:`~cinerec.errors.LLMError`, so the caller shows its usual flagged fallback).

A token is thread-safe (a :class:`threading.Event` and a deadline on the monotonic clock):
one thread cancels it, another reads it. :meth:`CancelToken.within` makes a token for a part
of the work: cancelled with its parent, or at its own, earlier deadline (:meth:`CancelToken.after`
makes a token with a deadline of its own).

Example:
    >>> token = CancelToken.after(60.0)
    >>> token.cancelled
    False
    >>> token.cancel("the client went away")
    >>> token.cancelled, token.reason
    (True, 'the client went away')
    >>> token.within(5.0).cancelled  # a part of cancelled work is cancelled too
    True
"""

from __future__ import annotations

import threading
import time

from cinerec.errors import LLMError

DEADLINE = "deadline"
""":attr:`CancelToken.reason` when the token's deadline passed (nobody called ``cancel``)."""


class Cancelled(LLMError):
    """The caller gave up (cancelled, or past its deadline); the model call stopped early.

    ``tokens``: pieces the model had generated when it stopped (0 when it never started).
    """

    def __init__(self, message: str, *, reason: str, tokens: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.tokens = tokens


class CancelToken:
    """Set once by whoever gives up; read by the running model call between tokens.

    Args:
        deadline: When the token cancels itself, in :func:`time.monotonic` seconds (None:
            only :meth:`cancel` cancels it).
        parent: A token whose cancellation cancels this one too.
    """

    __slots__ = ("_event", "_parent", "_reason", "deadline")

    def __init__(self, *, deadline: float | None = None, parent: CancelToken | None = None):
        if parent is not None and parent.deadline is not None:
            deadline = parent.deadline if deadline is None else min(deadline, parent.deadline)
        self.deadline = deadline
        self._parent = parent
        self._event = threading.Event()
        self._reason: str | None = None

    @classmethod
    def after(cls, seconds: float | None) -> CancelToken:
        """A token that cancels itself ``seconds`` from now (never when None)."""
        return cls(deadline=None if seconds is None else time.monotonic() + seconds)

    def within(self, seconds: float | None) -> CancelToken:
        """A token for part of this work: cancelled with this one, or ``seconds`` from now."""
        return CancelToken(
            deadline=None if seconds is None else time.monotonic() + seconds, parent=self
        )

    def cancel(self, reason: str = "cancelled") -> None:
        """Give up: the running call stops at its next token (the first reason given is kept)."""
        if self._reason is None:
            self._reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether the caller gave up: cancelled here or in a parent, or past the deadline."""
        if self._event.is_set():
            return True
        if self._parent is not None and self._parent.cancelled:
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline

    @property
    def reason(self) -> str | None:
        """Why the token is cancelled (:data:`DEADLINE` for a deadline), None while it is not."""
        if self._event.is_set():
            return self._reason
        if self._parent is not None and self._parent.cancelled:
            return self._parent.reason
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return DEADLINE
        return None

    def left(self) -> float | None:
        """Seconds to the deadline (0 when cancelled; None without a deadline)."""
        if self.cancelled:
            return 0.0
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    def check(self, what: str = "The model call", *, tokens: int = 0) -> None:
        """Raise :class:`Cancelled` when the token is cancelled."""
        reason = self.reason
        if reason is None:
            return
        if reason == DEADLINE:
            message = f"{what} did not finish within its deadline ({tokens} tokens generated)."
        else:
            message = f"{what} was stopped: {reason} ({tokens} tokens generated)."
        raise Cancelled(message, reason=reason, tokens=tokens)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled here, the deadline passes or ``timeout`` ends; returns
        :attr:`cancelled` (a parent's ``cancel`` is noticed within 50 ms)."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self.cancelled:
            step = 0.05 if self._parent is not None else None
            for limit in (self.left(), None if end is None else end - time.monotonic()):
                if limit is not None:
                    step = limit if step is None else min(step, limit)
            if step is not None and step <= 0:
                break
            self._event.wait(step)
        return self.cancelled


def can_cancel(backend: object) -> bool:
    """Whether ``backend`` takes ``cancel=`` in ``complete`` and ``stream`` and stops on it."""
    return bool(getattr(backend, "can_cancel", False))


def cancel_kwargs(backend: object, cancel: CancelToken | None) -> dict[str, CancelToken]:
    """``cancel=`` for a call of ``backend``: when there is a token and the backend takes one.

    Example:
        >>> cancel_kwargs(object(), CancelToken())
        {}
    """
    return {"cancel": cancel} if cancel is not None and can_cancel(backend) else {}
