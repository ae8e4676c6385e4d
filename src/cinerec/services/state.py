"""What a :class:`~cinerec.services.platform.Platform` keeps between requests, one holder per
concern.

No service module keeps mutable state of its own (``tests/architecture/test_module_state.py``
checks that): each cache, index, lock and "is it running" flag lives here, on the platform that
owns it, so two platforms (two tests, two apps) never share one, and a web worker's state is all
in one place. Each holder has its own lock; none is held while another is taken.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cinerec.llm.backends.cancel import CancelToken
from cinerec.llm.ranking.yesno import PriorCache

if TYPE_CHECKING:
    from cinerec.services.retrieval import CatalogRetriever
    from cinerec.services.similar import CatalogIndex


@dataclass
class CatalogIndexSlot:
    """The description-embedding index (:func:`cinerec.services.similar.catalog_index`).

    ``lock`` is held for the whole (long) first build; ``entry`` is ``(movie count, index)`` and
    may be read without the lock (it is replaced whole, never changed in place).
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    entry: tuple[int, CatalogIndex] | None = None


@dataclass
class RetrieverSlot:
    """The chat's hybrid retriever (:func:`cinerec.services.retrieval.catalog_retriever`):
    ``entry`` is ``((movie count, review summaries), retriever)``; ``building`` is True while
    the background embedding build runs."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    entry: tuple[tuple[int, int], CatalogRetriever] | None = None
    building: bool = False


@dataclass
class BuildFlag:
    """A background build that runs at most once at a time (``running`` under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False

    def start(self) -> bool:
        """Mark the build as running; False when it already is."""
        with self.lock:
            if self.running:
                return False
            self.running = True
            return True

    def finish(self) -> None:
        with self.lock:
            self.running = False


@dataclass
class WarmQueue:
    """Coalesced reasons warm-ups (:func:`cinerec.services.recommend.warm_reasons`): while one
    runs, later requests only leave the newest user in ``wanted``, and the running one stops
    before its next model call (:meth:`superseded`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False
    wanted: int | None = None

    def superseded(self) -> bool:
        """A newer warm-up request waits: the running one's prompt would be evicted by it (one
        prefix cache), so it should stop."""
        return self.wanted is not None


@dataclass
class RatingPrior:
    """The posts' quality prior: each movie's shrunk mean rating, read once
    (:func:`cinerec.services.posts.mean_ratings`); None until read."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    means: dict[int, float] | None = None


@dataclass
class CardCache:
    """Rendered post cards (PNG bytes) by post id, the newest ``limit`` posts."""

    limit: int = 50
    lock: threading.Lock = field(default_factory=threading.Lock)
    cards: OrderedDict[str, list[bytes]] = field(default_factory=OrderedDict)

    def get(self, post_id: str) -> list[bytes] | None:
        with self.lock:
            found = self.cards.get(post_id)
            if found is not None:
                self.cards.move_to_end(post_id)
            return found

    def put(self, post_id: str, cards: list[bytes]) -> None:
        with self.lock:
            self.cards[post_id] = cards
            while len(self.cards) > self.limit:
                self.cards.popitem(last=False)


@dataclass
class DeferredWork:
    """Work a service asks for after it changed something, to run once the answer has gone out
    (the web app runs it after each request: ``Platform.run_deferred``).

    One task per key: a newer request with the same key replaces the older one (e.g. one
    reasons warm-up per user, whatever number of ticks asked for it).
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    tasks: dict[str, Callable[[], object]] = field(default_factory=dict)

    def add(self, key: str, task: Callable[[], object]) -> None:
        with self.lock:
            self.tasks.pop(key, None)
            self.tasks[key] = task

    def pending(self) -> bool:
        return bool(self.tasks)

    def take(self) -> list[Callable[[], object]]:
        """Every waiting task, oldest first; the queue is empty afterwards."""
        with self.lock:
            tasks, self.tasks = list(self.tasks.values()), {}
        return tasks


@dataclass
class PlatformState:
    """Every piece of state the services keep for one platform."""

    catalog_index: CatalogIndexSlot = field(default_factory=CatalogIndexSlot)
    retriever: RetrieverSlot = field(default_factory=RetrieverSlot)
    review_build: BuildFlag = field(default_factory=BuildFlag)
    chat_warm_up: BuildFlag = field(default_factory=BuildFlag)
    reason_warm_ups: WarmQueue = field(default_factory=WarmQueue)
    rating_prior: RatingPrior = field(default_factory=RatingPrior)
    post_cards: CardCache = field(default_factory=CardCache)
    deferred: DeferredWork = field(default_factory=DeferredWork)
    yesno_priors: PriorCache = field(default_factory=PriorCache)
    """The yes/no scorer's per-movie log-odds (:mod:`cinerec.llm.ranking.yesno`)."""
    closing: threading.Event = field(default_factory=threading.Event)
    """Set once the platform shuts down (:meth:`~cinerec.services.platform.Platform.close`):
    warm-ups and deferred work check it between model calls and stop."""
    shutdown: CancelToken = field(default_factory=CancelToken)
    """Cancelled when the platform shuts down: warm-ups pass it to their model call, so one
    waiting for the model leaves the queue and one running stops at the backend's next check
    (before its prompt is evaluated, or at its next token; a remote server's stream is
    closed)."""
