"""SharedStreams: one producer per key, every listener sees every event from the start."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from cinerec.llm.backends.cancel import CancelToken
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


def test_the_last_listener_leaving_stops_the_producer_and_frees_the_key() -> None:
    streams: SharedStreams[int] = SharedStreams()
    abandon = CancelToken()
    stopped = threading.Event()
    started = 0

    def produce() -> Iterator[int]:
        nonlocal started
        started += 1
        k = 0
        while not abandon.cancelled:  # a model call that checks its token after every token
            yield k
            k += 1
            time.sleep(0.01)
        stopped.set()

    first_tab, second_tab = CancelToken(), CancelToken()
    a = streams.join("run", produce, until=first_tab, abandon=abandon)
    b = streams.join("run", produce, until=second_tab, abandon=CancelToken())  # joins: unused
    assert next(a) == 0 and next(b) == 0 and started == 1
    a.close()  # one tab closed: the other still listens
    time.sleep(0.05)
    assert not abandon.cancelled and streams.running("run")
    second_tab.cancel("the client disconnected")
    start = time.monotonic()
    list(b)  # returns once it sees its token
    assert abandon.reason == "every listener left" and stopped.wait(1)
    assert time.monotonic() - start < 1.0 and not streams.running("run")
    abandon = CancelToken()
    assert next(streams.join("run", produce, abandon=abandon)) == 0 and started == 2  # afresh
    abandon.cancel()


def test_a_finished_producer_is_not_abandoned() -> None:
    streams: SharedStreams[int] = SharedStreams()
    abandon = CancelToken()
    assert list(streams.join("k", lambda: iter([1, 2]), abandon=abandon)) == [1, 2]
    assert not abandon.cancelled
