"""ModelGate: per-session rate and concurrency, a global queue bound, refusals at once."""

from __future__ import annotations

import time

import pytest

from cinerec.config import Settings
from cinerec.web.fair_use import ModelGate, TooManyRequests


def gate(**overrides: object) -> ModelGate:
    values = {"model_rate_per_minute": 3, "model_session_concurrency": 1, "model_queue": 2}
    return ModelGate(Settings(**{**values, **overrides}))  # type: ignore[arg-type]


def test_the_rate_counts_per_session_and_says_when_to_retry() -> None:
    g = gate()
    for _ in range(3):
        with g.hold("a"):
            pass
    with pytest.raises(TooManyRequests) as refused:
        g.acquire("a")
    assert 1 <= refused.value.retry_after <= 60
    with g.hold("b"):  # another session has its own allowance
        pass


def test_concurrency_per_session_and_the_queue_bound() -> None:
    g = gate(model_rate_per_minute=100)
    first = g.acquire("a")
    with pytest.raises(TooManyRequests, match="still being answered"):
        g.acquire("a")
    second = g.acquire("b")
    with pytest.raises(TooManyRequests, match="busy"):
        g.acquire("c")
    assert g.in_flight == 2
    first.release()
    first.release()  # idempotent
    assert g.in_flight == 1
    g.acquire("c").release()
    second.release()
    assert g.in_flight == 0


def test_a_refusal_does_not_use_up_the_allowance() -> None:
    g = gate(model_rate_per_minute=2)
    held = g.acquire("a")
    for _ in range(5):
        with pytest.raises(TooManyRequests):
            g.acquire("a")  # refused for concurrency, not counted against the rate
    held.release()
    g.acquire("a").release()  # the second of two allowed


def test_a_dropped_ticket_frees_its_place_after_the_hold_limit() -> None:
    g = gate(model_rate_per_minute=100, llm_timeout_s=0.01)
    g.acquire("a")  # never released: a stream the client dropped
    time.sleep(0.05)
    g.acquire("a").release()


def test_limit_is_a_rate_without_a_queue_place() -> None:
    g = gate()
    for _ in range(2):
        g.limit("restore:1.2.3.4", per_minute=2)
    with pytest.raises(TooManyRequests):
        g.limit("restore:1.2.3.4", per_minute=2)
    assert g.in_flight == 0
