"""Where a benchmark result came from: command, commit, package versions, cores, threads, date.

Every script under ``benchmarks/`` puts :func:`provenance` into its JSON result (key
``provenance``) and :func:`markdown_header` at the top of its Markdown report.

Example:
    >>> record = provenance(["benchmarks/posts.py", "--limit", "10"])
    >>> record["command"]
    'python benchmarks/posts.py --limit 10'
    >>> sorted(record)[:3]
    ['command', 'cpu_count', 'date_utc']
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "cinerec", "numpy", "scipy", "pandas", "scikit-learn", "torch", "implicit",
    "llama_cpp_python", "sentence-transformers", "transformers", "onnxruntime", "lightfm-next",
    "recbole", "ray", "sqlalchemy", "pydantic",
)  # fmt: skip
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "CINEREC_LLM_THREADS",
    "CINEREC_LLM_MODEL", "CINEREC_RECOMMENDER",
)  # fmt: skip


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def relative_arg(arg: str) -> str:
    """An argument that is a path inside the repository, relative to it; outside it, the name
    only (results never carry machine paths)."""
    if not arg.startswith("/"):
        return arg
    path = Path(arg)
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return f"<{path.name}>"


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (those not installed are left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def provenance(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The record of one run.

    Args:
        argv: The command line (``sys.argv`` when None); absolute paths are made relative to
            the repository, or reduced to ``<name>`` outside it.

    Returns:
        ``command``, ``git_sha``, ``git_dirty`` (uncommitted changes to tracked files),
        ``python``, ``packages``, ``cpu_count``, ``threads`` (``os.sched_getaffinity`` size and
        the thread variables that are set), ``machine`` and ``date_utc``.
    """
    argv = list(sys.argv if argv is None else argv)
    status = _git("status", "--porcelain", "--untracked-files=no")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {
        "command": "python " + shlex.join(relative_arg(a) for a in argv),
        "git_sha": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "python": platform.python_version(),
        "packages": package_versions(),
        "cpu_count": os.cpu_count(),
        "threads": {
            "usable_cpus": usable,
            **{k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
        },
        "machine": f"{platform.machine()}, {platform.system()}",
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def markdown_header(record: dict[str, Any]) -> str:
    """Two Markdown lines naming the command, commit, cores, threads, packages and date."""
    sha = (record.get("git_sha") or "unknown")[:10] + (
        " (dirty)" if record.get("git_dirty") else ""
    )
    packages = ", ".join(f"{k} {v}" for k, v in record.get("packages", {}).items())
    threads = ", ".join(f"{k}={v}" for k, v in record.get("threads", {}).items())
    return (
        f"Command: `{record.get('command')}`; commit {sha}; {record.get('date_utc')}.\n"
        f"{record.get('cpu_count')} CPUs ({threads}); Python {record.get('python')}; "
        f"{packages}.\n"
    )


def write_provenance(path: Path, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Write :func:`provenance` to ``path`` (beside results whose format a library owns, such as
    the evaluation harness's ``result.json``) and return it."""
    record = provenance(argv)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def write_result(out: Path, result: dict[str, Any], markdown: str) -> None:
    """Write ``result`` to ``<out>.json`` and ``markdown`` to ``<out>.md`` (folders made)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown)
