"""Real servers for browser tests: ``cinerec serve`` in a subprocess, and a real Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import uvicorn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (scripts/ensure-chromium.sh)."
        )


def _fail_test(message: str) -> NoReturn:
    pytest.fail(message)


@contextmanager
def cinerec_server(
    home: Path,
    env: Mapping[str, str],
    *,
    wait_s: float = 180,
    grace_s: float = 30,
    fail: Callable[[str], NoReturn] = _fail_test,
) -> Iterator[str]:
    """``cinerec serve`` on a free port with ``home`` and ``env``; yields its base URL and stops
    it afterwards (:func:`stop_server`, SIGKILL after ``grace_s``). The server's output goes to
    ``home/server.log``. A server that exits or is not up within ``wait_s`` calls ``fail`` with
    the reason and the log's tail: the test fails; a benchmark passes a ``fail`` that raises."""
    port = free_port()
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cinerec.cli", "serve", "--port", str(port)],
        env={**os.environ, "CINEREC_HOME": str(home), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                fail(f"server exited: {(home / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            fail(
                f"server did not come up within {wait_s:.0f} s: "
                f"{(home / 'server.log').read_text()[-2000:]}"
            )
        yield url
    finally:
        stop_server(proc, grace_s=grace_s)
        log.close()


def stop_server(proc: subprocess.Popen, *, grace_s: float = 30) -> int:
    """Stop a server this test started: SIGTERM, then SIGKILL if it is still there after
    ``grace_s`` (an open browser connection or a model call can hold a graceful shutdown);
    returns the exit code. Never raises for a slow stop: the test's result is what counts."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(timeout=grace_s)


@contextmanager
def in_process_server(platform: Any, *, wait_s: float = 20, settings: Any = None) -> Iterator[str]:
    """The web app on ``platform`` under a real uvicorn server in a thread, on a free port (a
    real TCP connection, so a client can really disconnect); yields its base URL. ``settings``
    replaces the platform's for the app (e.g. another ``web_threads``)."""
    from cinerec.web.app import create_app

    port = free_port()
    app = create_app(settings or platform.settings, platform=platform)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_s
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
