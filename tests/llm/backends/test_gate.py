"""PriorityGate and GatedBackend: pages before chat before warm-ups, bounded waits, buffered
streams (fakes; the real model behind the gate is in test_gate_real.py)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Message
from cinerec.llm.backends.cancel import Cancelled, CancelToken
from cinerec.llm.backends.gate import GatedBackend, ModelBusy, Priority, PriorityGate
from cinerec.llm.persona import UserProfile
from cinerec.llm.reasons import write_reasons
from tests.llm.backends.contract import BackendContract
from tests.llm.fakes import FakeBackend, FakeReply, TokenFake
from tests.llm.movies import CANDIDATES, HISTORY

PROMPT = [Message("user", "hi")]


class TestGatedBackendContract(BackendContract):
    registry_name = "gate"  # a wrapper: see tests/architecture/test_registry_contracts.py
    backend_class = GatedBackend

    @pytest.fixture
    def backend(self) -> GatedBackend:
        return GatedBackend(FakeBackend(), PriorityGate(1), Priority.PAGE)

    def arrange_reply(self, backend: GatedBackend, reply: dict[str, Any]) -> None:
        backend.inner.queue(json.dumps(reply))

    def arrange_stream(self, backend: GatedBackend, text: str) -> None:
        backend.inner.queue(text)

    def arrange_timeout(self, backend: GatedBackend) -> tuple[float, int]:
        backend.inner.queue(FakeReply("{}", delay_s=5.0))
        return 0.01, 16

    def broken_backend(self, backend: GatedBackend) -> GatedBackend:
        return GatedBackend(FakeBackend([LLMError("model crashed")]), PriorityGate(1))


def _hold(gate: PriorityGate, seconds: float) -> threading.Thread:
    """Take the gate's only slot on a thread for ``seconds``; returns once it is held."""
    held = threading.Event()

    def work() -> None:
        with gate.slot(Priority.WARMUP):
            held.set()
            time.sleep(seconds)

    thread = threading.Thread(target=work)
    thread.start()
    assert held.wait(2)
    return thread


def _waiter(
    gate: PriorityGate, priority: Priority, order: list[str], name: str, **kw: Any
) -> threading.Thread:
    def work() -> None:
        try:
            with gate.slot(priority, **kw):
                order.append(name)
        except ModelBusy:
            order.append(f"{name}:busy")

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def _wait_for_waiters(gate: PriorityGate, n: int) -> None:
    deadline = time.monotonic() + 2
    while gate.waiting < n:
        assert time.monotonic() < deadline, f"only {gate.waiting} of {n} waiters arrived"
        time.sleep(0.005)


def test_a_waiting_page_goes_before_earlier_warmups_and_chat() -> None:
    gate = PriorityGate(1, {Priority.WARMUP: 5.0})
    holder = _hold(gate, 0.2)
    order: list[str] = []
    threads = [_waiter(gate, Priority.WARMUP, order, "warmup")]
    _wait_for_waiters(gate, 1)
    threads.append(_waiter(gate, Priority.CHAT, order, "chat"))
    _wait_for_waiters(gate, 2)
    threads.append(_waiter(gate, Priority.PAGE, order, "page"))
    _wait_for_waiters(gate, 3)
    for t in [holder, *threads]:
        t.join(5)
    assert order == ["page", "chat", "warmup"]
    assert gate.stats.granted[Priority.PAGE] == 1 and gate.busy == 0


def test_within_a_class_the_job_with_fewer_calls_goes_first() -> None:
    gate = PriorityGate(1)
    holder = _hold(gate, 0.2)
    order: list[str] = []
    threads = [_waiter(gate, Priority.PAGE, order, "old page, 4th reason", job_calls=3)]
    _wait_for_waiters(gate, 1)
    threads.append(_waiter(gate, Priority.PAGE, order, "new page, 1st reason", job_calls=0))
    _wait_for_waiters(gate, 2)
    for t in [holder, *threads]:
        t.join(5)
    assert order == ["new page, 1st reason", "old page, 4th reason"]


def test_every_wait_has_a_deadline_and_a_timed_out_waiter_leaves_the_queue() -> None:
    gate = PriorityGate(1, {Priority.PAGE: 0.1})
    holder = _hold(gate, 0.4)
    start = time.monotonic()
    with pytest.raises(ModelBusy, match="busy") as info:
        gate.acquire(Priority.PAGE)
    assert 0.09 <= time.monotonic() - start < 0.35
    assert isinstance(info.value, LLMError) and info.value.priority is Priority.PAGE
    assert gate.waiting == 0 and gate.stats.busy[Priority.PAGE] == 1
    holder.join(5)
    # The call's own timeout is shorter than the class's limit: it wins.
    patient = PriorityGate(1, {Priority.PAGE: 60})
    other = _hold(patient, 0.4)
    start = time.monotonic()
    with pytest.raises(ModelBusy):
        patient.acquire(Priority.PAGE, wait_s=0.05)
    assert time.monotonic() - start < 0.3
    other.join(5)
    with gate.slot(Priority.PAGE) as waited:  # free again
        assert waited < 0.05


def test_warmups_stay_out_of_the_way_under_contention() -> None:
    gate = PriorityGate(1, warmup_quiet_s=0.3)
    with gate.slot(Priority.PAGE):  # a page runs: a warm-up is refused at once
        start = time.monotonic()
        with pytest.raises(ModelBusy):
            gate.acquire(Priority.WARMUP, wait_s=5)
        assert time.monotonic() - start < 0.05
    with gate.slot(Priority.WARMUP):  # that page never waited: a lone viewer's warm-up runs
        pass
    holder = _hold(gate, 0.1)
    with gate.slot(Priority.CHAT) as waited:  # this call had to wait: contention
        assert waited > 0.05
    holder.join(5)
    with pytest.raises(ModelBusy):  # so warm-ups are refused for a while
        gate.acquire(Priority.WARMUP)
    time.sleep(0.35)
    with gate.slot(Priority.WARMUP):
        assert gate.busy == 1
    assert gate.stats.busy[Priority.WARMUP] == 2


def test_slots_run_calls_side_by_side() -> None:
    gate = PriorityGate(2)
    inside = threading.Barrier(2, timeout=2)

    def work() -> None:
        with gate.slot(Priority.CHAT):
            inside.wait()  # both must be inside at once, or the barrier breaks

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not inside.broken and gate.stats.granted[Priority.CHAT] == 2


def test_release_without_acquire_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        PriorityGate(1).release()
    with pytest.raises(ValueError):
        PriorityGate(0)


def test_gated_complete_counts_the_wait_toward_its_timeout() -> None:
    fake = FakeBackend(["ok"])
    gate = PriorityGate(1)
    holder = _hold(gate, 0.2)
    completion = GatedBackend(fake, gate, Priority.PAGE).complete(PROMPT, timeout_s=5.0)
    holder.join(5)
    assert completion.text == "ok"
    assert completion.extra["queue_s"] >= 0.1
    assert fake.calls[0].timeout_s is not None and fake.calls[0].timeout_s <= 5.0 - 0.1


def test_busy_model_gives_a_page_the_reasons_fallback_not_an_error() -> None:
    gate = PriorityGate(1, {Priority.PAGE: 0.05})
    holder = _hold(gate, 0.5)
    backend = GatedBackend(FakeBackend(), gate, Priority.PAGE)
    reasons = list(
        write_reasons(backend, UserProfile(name="Ann"), "", HISTORY, CANDIDATES[:2], timeout_s=5)
    )
    holder.join(5)
    assert len(reasons) == 1 and reasons[0].text is None
    assert reasons[0].error is not None and "busy" in reasons[0].error


def test_stream_gives_the_slot_back_before_a_slow_reader_finishes() -> None:
    fake = FakeBackend(["one two three four five six"])
    gate = PriorityGate(1)
    pieces = GatedBackend(fake, gate, Priority.CHAT).stream(PROMPT)
    first = next(pieces)
    # The reader has taken one piece and dawdles; the producer has finished and let go.
    deadline = time.monotonic() + 2
    while gate.busy:
        assert time.monotonic() < deadline, "the stream kept the model while the reader slept"
        time.sleep(0.01)
    with gate.slot(Priority.PAGE, wait_s=0.5):
        pass
    assert first + "".join(pieces) == "one two three four five six"


def test_stream_errors_reach_the_reader_and_free_the_slot() -> None:
    gate = PriorityGate(1)
    pieces = GatedBackend(FakeBackend([LLMError("crashed")]), gate).stream(PROMPT)
    with pytest.raises(LLMError, match="crashed"):
        list(pieces)
    assert gate.busy == 0


def test_stream_waits_are_bounded_too() -> None:
    gate = PriorityGate(1, {Priority.CHAT: 0.05})
    holder = _hold(gate, 0.4)
    with pytest.raises(ModelBusy):
        GatedBackend(FakeBackend(["x"]), gate).stream(PROMPT)
    holder.join(5)


def test_a_stalled_stream_is_an_llm_error() -> None:
    class Stalling(FakeBackend):
        def stream(self, messages, **kw):  # type: ignore[no-untyped-def]
            time.sleep(0.5)
            yield "late"

    pieces = GatedBackend(Stalling(), PriorityGate(1), stall_s=0.05).stream(PROMPT)
    with pytest.raises(LLMError, match="sent nothing"):
        list(pieces)


def test_views_share_the_gate_and_pass_capabilities_through() -> None:
    fake = FakeBackend(model="m1", can_stream=False)
    base = GatedBackend(fake, PriorityGate(1))
    warm = base.at(Priority.WARMUP)
    assert warm.gate is base.gate and warm.inner is fake and warm.priority is Priority.WARMUP
    assert (warm.model, warm.can_stream, warm.caches_prefix) == ("m1", False, False)
    assert warm.calls is fake.calls  # anything else is the backend's own
    assert not warm.supports_scoring
    with pytest.raises(LLMError, match="cannot score"):
        warm.score_next_tokens("p", ["a"], ["Yes"])


# -- cancelling -------------------------------------------------------------------------------
# TokenFake writes a word every 10 ms: 2,000 words (its max_tokens here) would take 20 s.
FREED_WITHIN_S = 0.3  # a few tokens' time, on a loaded machine


def _page_waiter(gate: PriorityGate, got: list[float]) -> threading.Thread:
    """A page call that waits for the slot, recording when it got it."""

    def work() -> None:
        with gate.slot(Priority.PAGE, wait_s=10):
            got.append(time.monotonic())

    thread = threading.Thread(target=work)
    thread.start()
    _wait_for_waiters(gate, 1)
    return thread


def test_cancelling_a_running_stream_frees_the_slot_for_the_next_waiter() -> None:
    fake, gate, cancel = TokenFake(), PriorityGate(1), CancelToken()
    pieces = GatedBackend(fake, gate, Priority.CHAT).stream(PROMPT, max_tokens=2000, cancel=cancel)
    assert next(pieces) and next(pieces)
    got: list[float] = []
    waiter = _page_waiter(gate, got)
    cancelled_at = time.monotonic()
    cancel.cancel("the client disconnected")
    with pytest.raises(Cancelled, match="client disconnected"):
        list(pieces)  # the reader gets the caller's usual LLMError
    waiter.join(5)
    assert got and got[0] - cancelled_at < FREED_WITHIN_S, "the slot was not freed soon"
    assert fake.generated < 50 and not fake.running.is_set()  # stopped, not finished


def test_a_reader_that_stops_early_stops_the_generation() -> None:
    fake, gate = TokenFake(), PriorityGate(1)
    pieces = GatedBackend(fake, gate, Priority.CHAT).stream(PROMPT, max_tokens=2000)
    next(pieces)
    start = time.monotonic()
    pieces.close()  # what a web response does when its client goes away
    assert gate.busy == 0 and time.monotonic() - start < FREED_WITHIN_S + 0.5
    assert fake.generated < 50 and not fake.running.is_set()


def test_cancelling_a_running_complete_frees_the_slot() -> None:
    fake, gate, cancel = TokenFake(), PriorityGate(1), CancelToken()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            GatedBackend(fake, gate, Priority.CHAT).complete(
                PROMPT, max_tokens=2000, timeout_s=60, cancel=cancel
            )
        except LLMError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert fake.running.wait(2)
    got: list[float] = []
    waiter = _page_waiter(gate, got)
    cancelled_at = time.monotonic()
    cancel.cancel("the job was cancelled")
    thread.join(5)
    waiter.join(5)
    assert errors and isinstance(errors[0], Cancelled) and errors[0].reason.startswith("the job")
    assert got and got[0] - cancelled_at < FREED_WITHIN_S
    assert fake.generated < 50


def test_a_cancelled_waiter_leaves_the_queue_at_once() -> None:
    gate, cancel = PriorityGate(1), CancelToken()
    holder = _hold(gate, 0.6)
    threading.Timer(0.05, cancel.cancel, args=("gave up",)).start()
    start = time.monotonic()
    with pytest.raises(Cancelled, match="gave up"):
        GatedBackend(FakeBackend(["x"]), gate, Priority.PAGE).complete(PROMPT, cancel=cancel)
    assert time.monotonic() - start < 0.3 and gate.waiting == 0
    holder.join(5)


def test_a_backend_without_cancel_support_still_ends_a_cancelled_stream() -> None:
    fake = FakeBackend([FakeReply("a b c d e f g h i j", delay_s=0.0)])
    cancel = CancelToken()
    pieces = GatedBackend(fake, PriorityGate(1)).stream(PROMPT, cancel=cancel)  # not passed on
    first = next(pieces)
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(pieces)
    assert first and fake.calls  # the fake took no cancel= argument and still answered


def test_a_page_deadline_stops_the_running_reason_and_shows_the_fallback() -> None:
    fake, gate = TokenFake(), PriorityGate(1)
    backend = GatedBackend(fake, gate, Priority.PAGE)
    start = time.monotonic()
    reasons = list(
        write_reasons(backend, UserProfile(name="Ann"), "", HISTORY, CANDIDATES[:2], timeout_s=0.2)
    )
    assert time.monotonic() - start < 0.2 + FREED_WITHIN_S
    assert len(reasons) == 1 and reasons[0].text is None and "within" in (reasons[0].error or "")
    assert gate.busy == 0 and fake.generated < 40  # 48 words at most (_MAX_TOKENS), cut early


def test_a_cancelled_page_stops_its_reasons() -> None:
    fake, cancel = TokenFake(), CancelToken()
    backend = GatedBackend(fake, PriorityGate(1), Priority.PAGE)
    threading.Timer(0.1, cancel.cancel, args=("the job was cancelled",)).start()
    reasons = list(
        write_reasons(
            backend, UserProfile(name="Ann"), "", HISTORY, CANDIDATES[:3], timeout_s=30,
            cancel=cancel,
        )
    )  # fmt: skip
    assert reasons[-1].text is None and "job was cancelled" in (reasons[-1].error or "")
