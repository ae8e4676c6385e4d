"""One producer, many listeners: a stream of events computed once however many clients listen.

Two browser tabs open on the same recommendation run must not make the model write every
reason twice. :class:`SharedStreams` runs the producer of a key once, in a thread of its own, and
every listener of that key gets all its events from the start, as they come. A listener that
goes away does not stop the producer (what it writes is stored for the next page load).

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

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Broadcast(Generic[T]):
    """The events of one producer so far, and whether it has finished (or failed)."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self.closed = False
        self.error: BaseException | None = None
        self.changed = threading.Condition()

    def publish(self, item: T) -> None:
        with self.changed:
            self.items.append(item)
            self.changed.notify_all()

    def close(self, error: BaseException | None = None) -> None:
        with self.changed:
            self.closed, self.error = True, error
            self.changed.notify_all()

    def listen(self) -> Iterator[T]:
        seen = 0
        while True:
            with self.changed:
                while len(self.items) <= seen and not self.closed:
                    self.changed.wait()
                fresh, closed, error = self.items[seen:], self.closed, self.error
            yield from fresh
            seen += len(fresh)
            if closed and seen == len(self.items):
                if error is not None:
                    raise error
                return


class SharedStreams(Generic[T]):
    """Live producers by key (one registry per platform; no module-level state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[Hashable, _Broadcast[T]] = {}

    def join(self, key: Hashable, produce: Callable[[], Iterator[T]]) -> Iterator[T]:
        """Listen to the producer of ``key``, starting ``produce()`` if none is running."""
        with self._lock:
            broadcast = self._live.get(key)
            if broadcast is None:
                broadcast = self._live[key] = _Broadcast()
                worker = threading.Thread(
                    target=self._run, args=(key, broadcast, produce), daemon=True
                )
                worker.start()
        return broadcast.listen()

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
                self._live.pop(key, None)
            broadcast.close(error)
