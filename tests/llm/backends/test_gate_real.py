"""The priority gate in front of the real embedded model (SmolLM2-135M, one thread)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cinerec.llm.backends.base import Message
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
