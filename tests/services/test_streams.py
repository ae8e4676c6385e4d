"""SharedStreams: one producer per key, every listener sees every event from the start."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from cinerec.services.streams import SharedStreams


def test_listeners_of_one_key_share_one_producer() -> None:
    streams: SharedStreams[int] = SharedStreams()
    started = 0
    gate = threading.Event()

    def produce() -> Iterator[int]:
        nonlocal started
        started += 1
        for k in range(5):
            gate.wait()
            time.sleep(0.01)
            yield k

    listeners = [streams.join("run-1", produce) for _ in range(3)]
    assert streams.running("run-1")
    gate.set()
    with ThreadPoolExecutor(3) as pool:
        seen = list(pool.map(list, listeners))
    assert seen == [[0, 1, 2, 3, 4]] * 3 and started == 1
    assert not streams.running("run-1")
    assert list(streams.join("run-1", produce)) == [0, 1, 2, 3, 4] and started == 2


def test_a_late_listener_gets_the_events_already_sent() -> None:
    streams: SharedStreams[str] = SharedStreams()
    first_sent = threading.Event()
    go_on = threading.Event()

    def produce() -> Iterator[str]:
        yield "a"
        first_sent.set()
        go_on.wait()
        yield "b"

    early = streams.join("k", produce)
    assert next(early) == "a"
    first_sent.wait()
    late = streams.join("k", produce)
    go_on.set()
    assert list(late) == ["a", "b"] and list(early) == ["b"]


def test_a_failing_producer_fails_every_listener() -> None:
    streams: SharedStreams[int] = SharedStreams()

    def produce() -> Iterator[int]:
        yield 1
        raise RuntimeError("model crashed")

    listener = streams.join("k", produce)
    with pytest.raises(RuntimeError, match="model crashed"):
        list(listener)
    assert not streams.running("k")
