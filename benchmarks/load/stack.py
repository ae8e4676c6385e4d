"""The production web of ``deploy/Procfile`` on this machine: a fresh PostgreSQL database, the
Procfile's ``web`` line started with N uvicorn workers, and clean stops.

Used by the load and fault tests here and by ``tests/deploy`` (CI starts the same process the
load test measures). Traffic goes to 127.0.0.1 only. The language model is off
(``CINEREC_LLM_BACKEND=none``); the recommender is popularity (trained in a second on a first
start), no background builds run in the web processes.

Example:
    >>> with fresh_database(admin_url()) as url, ProductionWeb(url, workers=2) as web:
    ...     web.worker_pids()  # doctest: +SKIP
    [4242, 4243]
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "deploy" / "Procfile"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    """The PostgreSQL server to create databases on: ``CINEREC_TEST_POSTGRES_URL`` or the local
    server (trust authentication, database ``test``)."""
    return os.environ.get("CINEREC_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL


@contextmanager
def fresh_database(admin: str, prefix: str = "cinerec_deploy") -> Iterator[str]:
    """A new database on ``admin``'s server for the duration; dropped afterwards (its
    connections are ended first)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        engine.dispose()


def web_command(path: Path = PROCFILE) -> str:
    """The ``web:`` line of the Procfile (a shell command reading ``PORT``/``WEB_WORKERS``)."""
    for line in path.read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"{path} has no web: line")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s+Z", status, re.M)


def _is_worker(pid: int) -> bool:
    """A uvicorn worker is a spawned multiprocessing child (not its resource tracker)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` and its threads have used so far (``/proc``);
    OSError when it is gone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(
    pid: int, limit: float, *, window: float = 3.0, quiet: int = 10, busy: float = 0.15
) -> float:
    """Seconds until process ``pid`` stayed under ``busy`` of a core for ``quiet`` windows of
    ``window`` seconds in a row; gives up after ``limit`` seconds.

    One quiet window is not enough: the first-start jobs (stand-in model, the configured
    recommender, the embedding index, the review index) run one after another and some start
    only after others end, so a short lull between two of them would pass for idle.
    """
    start = time.perf_counter()
    in_a_row = 0
    while time.perf_counter() - start < limit and in_a_row < quiet:
        before = process_cpu_seconds(pid)
        time.sleep(window)
        in_a_row = in_a_row + 1 if (process_cpu_seconds(pid) - before) / window < busy else 0
    return time.perf_counter() - start


def pids_where(command: Callable[[bytes], bool]) -> list[int]:
    """The pids of this machine's processes whose command line (``/proc/<pid>/cmdline``, its
    arguments joined by NUL bytes) ``command`` accepts; processes gone meanwhile are skipped."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if command((entry / "cmdline").read_bytes()):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def database_cpu_seconds(database: str) -> dict[int, float]:
    """CPU seconds (user + system) so far of each PostgreSQL backend serving ``database``
    (its processes on this machine, ``/proc``), by pid."""
    wanted = f" {database} ".encode()
    found = {}
    for pid in pids_where(lambda cmd: cmd.startswith(b"postgres:") and wanted in cmd):
        try:
            found[pid] = process_cpu_seconds(pid)
        except OSError:
            continue
    return found


WEB_PACKAGES = ("fastapi", "starlette", "uvicorn", "httptools", "uvloop", "psycopg", "locust")


def web_stack() -> dict[str, str]:
    """Versions of the packages a web load run depends on (uvicorn serves with httptools and
    uvloop only where they are installed)."""
    from benchmarks.provenance import package_versions

    return package_versions(WEB_PACKAGES)


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, over all cores (``/proc/stat``):
    what every process used, the load generator, the database and other work included."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / ticks, sum(fields[:8]) / ticks


class ProductionWeb:
    """``deploy/Procfile``'s web process with ``workers`` uvicorn workers on a free port.

    Args:
        database_url: A PostgreSQL database (empty: the first start ingests the catalog).
        workers: ``WEB_WORKERS``.
        home: The state directory (default: a new directory under the system temp).
        env: More environment variables.
        ready_timeout: Seconds to wait for the first answer (ingest included).
    """

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 2,
        home: Path | None = None,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 600.0,
        log_path: Path | None = None,
    ) -> None:
        import tempfile

        self.database_url = database_url
        self.workers = workers
        self.home = home or Path(tempfile.mkdtemp(prefix="cinerec-web-"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ready_timeout = ready_timeout
        self.log_path = log_path or self.home / "web.log"
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        source = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
        env = {
            **os.environ,
            "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(
                p for p in (source, os.environ.get("PYTHONPATH", "")) if p
            ),
            "PORT": str(self.port),
            "WEB_WORKERS": str(self.workers),
            "CINEREC_HOME": str(self.home),
            "CINEREC_DATABASE_URL": self.database_url,
            "CINEREC_LLM_BACKEND": "none",
            "CINEREC_RECOMMENDER": "popularity",
            "CINEREC_WARM_EMBEDDINGS": "false",
            "CINEREC_REVIEW_SUMMARIES": "false",
            "CINEREC_PREFILL_REASONS": "false",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
        }
        env.update(self.extra_env)
        return env

    def start(self) -> ProductionWeb:
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            ["bash", "-c", "exec " + web_command()],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the web process ended; its log:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/api/csrf", timeout=5).status_code == 200:
                    if len(self.worker_pids()) >= self.workers or self.workers == 1:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise TimeoutError(f"no answer in {self.ready_timeout:.0f} s; log:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (empty with one worker: the parent serves)."""
        if self.process is None:
            return []
        return [p for p in _children(self.process.pid) if _alive(p) and _is_worker(p)]

    def connections_by_worker(self) -> dict[int, int]:
        """Worker pid -> established TCP connections it holds on the port (Linux ``/proc``):
        which workers are serving the open client connections."""
        established = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == self.port and fields[3] == "01":  # 01: ESTABLISHED
                    established.add(fields[9])  # the socket's inode
        found = {}
        for pid in self.worker_pids():
            inodes = set()
            try:
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
            except OSError:
                continue
            found[pid] = len(inodes & established)
        return found

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the web parent and its live workers have used so far."""
        if self.process is None:
            return 0.0
        total = 0.0
        for pid in (self.process.pid, *self.worker_pids()):
            try:
                total += process_cpu_seconds(pid)
            except OSError:
                continue
        return total

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker, as a crash would (its requests in flight are cut)."""
        os.kill(pid, signal.SIGKILL)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        return self.process.returncode

    def __enter__(self) -> ProductionWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
