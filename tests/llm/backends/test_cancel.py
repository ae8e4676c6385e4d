"""CancelToken: cancelled by a call or a deadline, inherited by parts of the work."""

from __future__ import annotations

import threading
import time

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.cancel import DEADLINE, Cancelled, CancelToken, can_cancel
from tests.llm.fakes import FakeBackend, TokenFake


def test_a_fresh_token_is_not_cancelled_and_has_no_deadline() -> None:
    token = CancelToken()
    assert not token.cancelled and token.reason is None and token.left() is None
    token.check()  # does not raise


def test_cancel_keeps_the_first_reason_and_check_raises_an_llm_error() -> None:
    token = CancelToken()
    token.cancel("the client disconnected")
    token.cancel("later")
    assert token.cancelled and token.reason == "the client disconnected" and token.left() == 0.0
    with pytest.raises(Cancelled, match="client disconnected") as info:
        token.check("The model call", tokens=3)
    assert isinstance(info.value, LLMError) and info.value.tokens == 3


def test_a_deadline_cancels_by_itself() -> None:
    token = CancelToken.after(0.05)
    assert not token.cancelled and 0 < (token.left() or 0) <= 0.05
    time.sleep(0.07)
    assert token.cancelled and token.reason == DEADLINE
    with pytest.raises(Cancelled, match="within") as info:
        token.check()
    assert info.value.reason == DEADLINE


def test_a_part_is_cancelled_with_its_parent_and_keeps_the_earlier_deadline() -> None:
    parent = CancelToken.after(10.0)
    part = parent.within(60.0)
    assert part.deadline == parent.deadline  # never later than the whole
    assert (parent.within(1.0).deadline or 0) < (parent.deadline or 0)
    part.cancel("only the part")
    assert part.cancelled and not parent.cancelled
    other = parent.within(None)
    parent.cancel("the job was cancelled")
    assert other.cancelled and other.reason == "the job was cancelled"


def test_wait_returns_when_another_thread_cancels() -> None:
    token = CancelToken()
    threading.Timer(0.05, token.cancel).start()
    start = time.monotonic()
    assert token.wait(5.0)
    assert time.monotonic() - start < 1.0
    assert not CancelToken().wait(0.01)  # nobody cancels: returns at the timeout


def test_can_cancel_reads_the_capability() -> None:
    assert can_cancel(TokenFake()) and not can_cancel(FakeBackend()) and not can_cancel(None)
