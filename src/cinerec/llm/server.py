"""Run the embedded model out of process, as an OpenAI-compatible server on this machine.

Two llama.cpp servers speak the protocol that
:class:`~cinerec.llm.backends.openai_http.OpenAICompatibleBackend` talks:

- ``llama-server`` (llama.cpp's C++ server) serves ``--parallel N`` slots at once, each with its
  own prompt cache; used when the binary is given, on ``PATH``, or where
  ``scripts/build-llama-server.sh`` installs it (:func:`built_llama_server`:
  ``<cache dir>/bin/llama-server``, the cache dir being ``CINEREC_CACHE_DIR`` or
  ``~/.cache/cinerec``).
- ``python -m llama_cpp.server`` (llama-cpp-python's server, the ``server`` extra) runs one model
  and serializes requests: one at a time, whatever ``parallel`` says. It is what ``pip install``
  brings, so it is the fallback and what the tests start.

On a GPU host, vLLM serves the same protocol with continuous batching (see the README's
"Production" notes); point the openai backend at it the same way.

:func:`running_server` starts one on a free 127.0.0.1 port and waits until it answers, for tests
and benchmarks; ``cinerec model-server`` runs :func:`server_command` in the foreground.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from cinerec.config import default_cache_dir
from cinerec.errors import LLMError

SCHEMA_FORMATS = {"llama-server": "json_schema", "python": "json_object"}
"""How each runtime takes a JSON schema (``CINEREC_OPENAI_SCHEMA_FORMAT``)."""


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """What to serve and how.

    Args:
        model_path: The ``.gguf`` file.
        alias: The model name clients send (``CINEREC_OPENAI_MODEL``).
        host: Interface to bind (keep 127.0.0.1 unless a proxy in front authenticates).
        port: TCP port.
        parallel: Slots served at once (``llama-server`` only).
        n_ctx: Context per slot in tokens.
        threads: CPU threads for generation.
        runtime: ``auto`` (``llama-server`` when found, else the Python server),
            ``llama-server`` or ``python``.
        binary: Path of ``llama-server`` when not on ``PATH``.
        cache_dir: cinerec's cache directory (``Settings.cache_dir``), where
            ``scripts/build-llama-server.sh`` installs ``bin/llama-server``; ``None`` means the
            default (``~/.cache/cinerec``).
    """

    model_path: Path
    alias: str
    host: str = "127.0.0.1"
    port: int = 8080
    parallel: int = 1
    n_ctx: int = 4096
    threads: int = 2
    runtime: str = "auto"
    binary: str | None = None
    cache_dir: Path | None = None

    @property
    def base_url(self) -> str:
        """The ``/v1`` root the openai backend needs (``CINEREC_OPENAI_BASE_URL``)."""
        return f"http://{self.host}:{self.port}/v1"


def built_llama_server(cache_dir: Path | None = None) -> Path:
    """Where ``scripts/build-llama-server.sh`` installs ``llama-server`` (it may not be there)."""
    return (cache_dir or default_cache_dir()) / "bin" / "llama-server"


def llama_server_binary(binary: str | None = None, cache_dir: Path | None = None) -> str | None:
    """The ``llama-server`` executable: ``binary`` if given (a path or a name on ``PATH``), else
    the one on ``PATH``, else the one ``scripts/build-llama-server.sh`` built into ``cache_dir``;
    ``None`` when there is none."""
    if binary:
        return binary if Path(binary).is_file() else shutil.which(binary)
    built = built_llama_server(cache_dir)
    return shutil.which("llama-server") or shutil.which(built.name, path=str(built.parent))


def python_server_available() -> bool:
    """Whether llama-cpp-python's server extra (uvicorn, sse-starlette, ...) is installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
    )


def server_command(spec: ServerSpec) -> tuple[list[str], str]:
    """The command line that serves ``spec``, and which runtime it is (``llama-server`` or
    ``python``).

    Raises:
        LLMError: the asked runtime is not installed (the message says how to get one).
    """
    wanted = spec.runtime in ("auto", "llama-server")
    binary = llama_server_binary(spec.binary, spec.cache_dir) if wanted else None
    if binary is not None:
        return [
            binary,
            "--model", str(spec.model_path),
            "--alias", spec.alias,
            "--host", spec.host,
            "--port", str(spec.port),
            "--parallel", str(spec.parallel),
            # --ctx-size is shared by the slots: each slot gets n_ctx tokens.
            "--ctx-size", str(spec.n_ctx * spec.parallel),
            "--threads", str(spec.threads),
            "--cont-batching",
        ], "llama-server"  # fmt: skip
    if spec.runtime == "llama-server":
        raise LLMError(
            "llama-server was not found; build it with scripts/build-llama-server.sh, put "
            "llama.cpp's server on PATH or pass --binary (or use --runtime python)."
        )
    if not python_server_available():
        raise LLMError(
            "No model server is installed: `pip install 'llama-cpp-python[server]==0.3.36'` "
            "(or build llama.cpp's llama-server with scripts/build-llama-server.sh)."
        )
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(spec.model_path),
        "--model_alias", spec.alias,
        "--host", spec.host,
        "--port", str(spec.port),
        "--n_ctx", str(spec.n_ctx),
        "--n_threads", str(spec.threads),
        "--n_threads_batch", str(spec.threads),
        # By default it cuts a running stream short whenever another request arrives.
        "--interrupt_requests", "False",
    ], "python"  # fmt: skip


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Poll ``{base_url}/models`` until the server answers (LLMError if it dies or is late)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LLMError(f"The model server exited with code {process.returncode} at start.")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/models", timeout=2.0).is_success:
                return
        time.sleep(0.25)
    raise LLMError(f"The model server at {base_url} did not answer within {timeout_s:.0f} s.")


@dataclass(frozen=True)
class RunningServer:
    """A started server: its spec, runtime, process and the seconds it took to answer."""

    spec: ServerSpec
    runtime: str
    process: subprocess.Popen[bytes]
    start_s: float

    @property
    def base_url(self) -> str:
        return self.spec.base_url


@contextlib.contextmanager
def running_server(
    spec: ServerSpec, *, timeout_s: float = 120.0, log_path: Path | None = None
) -> Iterator[RunningServer]:
    """Start the server of ``spec`` (port 0 picks a free one), wait until it answers, and stop
    it on exit. Its output goes to ``log_path`` (else it is discarded)."""
    if spec.port == 0:
        spec = dataclasses.replace(spec, port=free_port(spec.host))
    command, runtime = server_command(spec)
    sink = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_ready(spec.base_url, process, timeout_s)
        yield RunningServer(spec, runtime, process, time.monotonic() - start)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if log_path:
            sink.close()  # type: ignore[union-attr]
