"""background: a worker thread lowers its own priority, not the server's."""

from __future__ import annotations

import os
import threading

import pytest

from cinerec.services.background import lower_thread_priority


def test_a_background_thread_can_lower_only_its_own_priority() -> None:
    seen: dict[str, int | bool] = {}

    def work() -> None:
        seen["lowered"] = lower_thread_priority(5)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if not seen["lowered"]:
        pytest.skip("this system does not let a thread change its priority")
    assert seen["nice"] == 5  # an absolute nice value, for this thread only
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the process (main thread) is unchanged
