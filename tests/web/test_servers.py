"""The browser tests' server helper stops a server that ignores SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.web.servers import stop_server

IGNORES_TERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)


def test_stop_server_kills_a_server_that_ignores_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    code = stop_server(proc, grace_s=1)
    assert proc.poll() is not None
    assert code != 0
    assert time.monotonic() - started < 10


def test_stop_server_returns_the_exit_code_of_a_quick_stop() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    assert stop_server(proc, grace_s=10) == -15
