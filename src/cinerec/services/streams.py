"""One producer, many listeners: a stream of events computed once however many clients listen.

Two browser tabs open on the same recommendation run must not make the model write every
reason twice. :class:`SharedStreams` runs the producer of a key once, in a thread of its own, and
every listener of that key gets all its events from the start, as they come. A listener that
goes away does not stop the producer while another one listens; when the last one goes, the
producer's ``abandon`` token (when one was given) is cancelled, so it stops its model call within
about a token, and the key is free: the next listener starts a fresh producer (which resumes from
what the stopped one stored). A listener leaves when its ``until`` token is cancelled (the web
client disconnected) or when its iterator is closed.

Example:
    >>> streams: SharedStreams[int] = SharedStreams()
    >>> list(streams.join("k", lambda: iter([1, 2, 3])))
    [1, 2, 3]
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

from cinerec.llm.backends.cancel import CancelToken

log = logging.getLogger(__name__)

LISTEN_POLL_S = 0.25
"""How often a waiting listener looks at its ``until`` token."""
ABANDONED = "every listener left"
"""The reason an abandoned producer's token is cancelled with."""

T = TypeVar("T")


class _Broadcast(Generic[T]):
    """The events of one producer so far, and whether it has finished (or failed)."""

    def __init__(self, abandon: CancelToken | None = None) -> None:
        self.items: list[T] = []
        self.closed = False
        self.error: BaseException | None = None
        self.changed = threading.Condition()
        self.listeners = 0
        self.abandon = abandon

    def publish(self, item: T) -> None:
        with self.changed:
            self.items.append(item)
            self.changed.notify_all()

    def close(self, error: BaseException | None = None) -> None:
        with self.changed:
            self.closed, self.error = True, error
            self.changed.notify_all()

    def listen(
        self, until: CancelToken | None, left: Callable[[], None] | None = None
    ) -> Iterator[T]:
        """Every event from the start; ends early once ``until`` is cancelled. ``left`` is
        called when this listener is done (however it ended)."""
        seen = 0
        try:
            while True:
                with self.changed:
                    while len(self.items) <= seen and not self.closed:
                        if until is not None and until.cancelled:
                            return
                        self.changed.wait(LISTEN_POLL_S if until is not None else None)
                    fresh, closed, error = self.items[seen:], self.closed, self.error
                if until is not None and until.cancelled:
                    return
                yield from fresh
                seen += len(fresh)
                if closed and seen == len(self.items):
                    if error is not None:
                        raise error
                    return
        finally:
            if left is not None:
                left()


class SharedStreams(Generic[T]):
    """Live producers by key (one registry per platform; no module-level state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[Hashable, _Broadcast[T]] = {}

    def join(
        self,
        key: Hashable,
        produce: Callable[[], Iterator[T]],
        *,
        until: CancelToken | None = None,
        abandon: CancelToken | None = None,
    ) -> Iterator[T]:
        """Listen to the producer of ``key``, starting ``produce()`` if none is running.

        ``until``: this listener leaves once it is cancelled (checked every
        :data:`LISTEN_POLL_S` while it waits). ``abandon``: the token ``produce`` stops on; used
        only when this call starts the producer, and cancelled when its last listener leaves
        before it finished.
        """
        with self._lock:
            broadcast = self._live.get(key)
            if broadcast is None:
                broadcast = self._live[key] = _Broadcast(abandon)
                worker = threading.Thread(
                    target=self._run, args=(key, broadcast, produce), daemon=True
                )
                worker.start()
            broadcast.listeners += 1
        return broadcast.listen(until, lambda: self._left(key, broadcast))

    def _left(self, key: Hashable, broadcast: _Broadcast[T]) -> None:
        """One listener is done; the last one of an unfinished producer abandons it."""
        with self._lock:
            broadcast.listeners -= 1
            if broadcast.listeners > 0 or broadcast.closed or broadcast.abandon is None:
                return
            if self._live.get(key) is broadcast:
                del self._live[key]  # the next listener starts afresh
        log.info("shared stream %r: every listener left; stopping its producer", key)
        broadcast.abandon.cancel(ABANDONED)

    def running(self, key: Hashable) -> bool:
        """Whether a producer for ``key`` is running now."""
        with self._lock:
            return key in self._live

    def _run(
        self, key: Hashable, broadcast: _Broadcast[T], produce: Callable[[], Iterator[T]]
    ) -> None:
        error: BaseException | None = None
        try:
            for item in produce():
                broadcast.publish(item)
        except BaseException as exc:  # noqa: BLE001 - handed to every listener, not swallowed
            log.warning("shared stream %r failed: %s", key, exc)
            error = exc
        finally:
            with self._lock:
                if self._live.get(key) is broadcast:  # not a fresh producer's
                    del self._live[key]
            broadcast.close(error)
