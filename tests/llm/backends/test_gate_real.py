"""The priority gate in front of the real embedded model (SmolLM2-135M, one thread)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from cinerec.llm.backends.base import Message
from cinerec.llm.backends.cancel import Cancelled, CancelToken
from cinerec.llm.backends.gate import GatedBackend, ModelBusy, Priority, PriorityGate
from cinerec.llm.backends.llamacpp import LlamaCppBackend
from tests.llm.conftest import require_llama_cpp

pytestmark = pytest.mark.slow

PROMPT = [Message("user", "Tell a short story about a heist in Los Angeles.")]


@pytest.fixture(scope="module")
def model(smallest_model_path: Path) -> LlamaCppBackend:
    require_llama_cpp()
    backend = LlamaCppBackend(smallest_model_path, n_threads=1, n_ctx=1024, model_name="smol")
    backend.load()
    return backend


def test_a_slow_reader_does_not_hold_the_model(model: LlamaCppBackend) -> None:
    gate = PriorityGate(1, {Priority.PAGE: 30})
    pieces = GatedBackend(model, gate, Priority.CHAT).stream(PROMPT, max_tokens=48)
    first = next(pieces)
    deadline = time.monotonic() + 30
    while gate.busy:  # the reader sleeps; the producer finishes generating and lets go
        assert time.monotonic() < deadline, "the stream held the model for its slow reader"
        time.sleep(0.05)
    page = GatedBackend(model, gate, Priority.PAGE).complete(PROMPT, max_tokens=4, timeout_s=30)
    assert page.text and page.extra["queue_s"] < 1.0
    assert (first + "".join(pieces)).strip()


def test_a_page_waits_at_most_its_deadline_behind_a_long_call(model: LlamaCppBackend) -> None:
    gate = PriorityGate(1, {Priority.PAGE: 0.2})
    long_call = GatedBackend(model, gate, Priority.WARMUP).stream(PROMPT, max_tokens=200)
    start = time.monotonic()
    with pytest.raises(ModelBusy):
        GatedBackend(model, gate, Priority.PAGE).complete(PROMPT, max_tokens=4, timeout_s=30)
    assert time.monotonic() - start < 1.0
    assert "".join(long_call)


ESSAY = [Message("user", "Write a long essay about the history of cinema, at least 1000 words.")]


def test_a_cancelled_generation_stops_at_once_and_the_next_waiter_runs(
    model: LlamaCppBackend,
) -> None:
    start = time.monotonic()
    full = model.complete(ESSAY, max_tokens=160, timeout_s=300)
    full_s = time.monotonic() - start
    assert full.completion_tokens >= 120, "the uncancelled run must be long to compare with"

    gate, cancel = PriorityGate(1), CancelToken()
    start = time.monotonic()
    pieces = GatedBackend(model, gate, Priority.CHAT).stream(ESSAY, max_tokens=160, cancel=cancel)
    got = [next(pieces) for _ in range(3)]
    waited: list[float] = []

    def page() -> None:
        with gate.slot(Priority.PAGE, wait_s=60):
            waited.append(time.monotonic())

    waiter = threading.Thread(target=page)
    waiter.start()
    while not gate.waiting:
        time.sleep(0.005)
    cancelled_at = time.monotonic()
    cancel.cancel("the client disconnected")
    with pytest.raises(Cancelled) as info:
        got.extend(pieces)
    waiter.join(30)
    elapsed = time.monotonic() - start
    assert waited and waited[0] - cancelled_at < 1.0, "the slot was not freed within a token"
    assert len(got) <= 5 and info.value.tokens <= 5  # of the 160 the full run wrote
    assert elapsed < full_s / 3, (elapsed, full_s)


def test_a_running_complete_stops_soon_after_cancel(model: LlamaCppBackend) -> None:
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel, args=("the job was cancelled",)).start()
    start = time.monotonic()
    with pytest.raises(Cancelled, match="job was cancelled") as info:
        model.complete(ESSAY, max_tokens=160, timeout_s=300, cancel=cancel)
    assert time.monotonic() - start < 0.3 + 1.0
    assert info.value.tokens < 120
    after = model.complete(PROMPT, max_tokens=4, timeout_s=60)  # the model is usable again
    assert after.text
