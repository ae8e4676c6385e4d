"""Background work that yields the CPU to the requests being served."""

from __future__ import annotations

import os
import threading


def lower_thread_priority(niceness: int = 19) -> bool:
    """Make the calling thread the last to get the CPU (Linux: threads have their own nice
    value); False where the system does not allow it. Background builds (review summaries, a
    slow recommender's training) run for minutes and must not slow the reasons the language
    model is writing meanwhile."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not permitted
        return False
    return True
