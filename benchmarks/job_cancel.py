"""How soon a cancelled job stops (issue 22): from the cancel request to the task stopping.

Each repeat enqueues the test job ``patient`` (:class:`tests.jobs.conftest.Patient`: 10 ms steps,
its cancel token checked before each step, as the review summaries check it before each movie),
waits until it runs, waits a random 0.2-1.2 s more (so the request falls anywhere in the worker's
polling period), then cancels it and waits until the job is stored ``cancelled``.

Modes:

* ``inprocess-local``: the in-process runner that runs the job is the one asked (its token is
  cancelled at once: ``make run``, one process);
* ``inprocess-table``: another runner object is asked (the request reaches the job only through
  the jobs table, read every ``job_cancel_poll_s`` by the job's heartbeat thread);
* ``redis`` / ``rabbitmq``: the job runs in a ``cinerec worker``-style process
  (``python -m tests.jobs.patient_worker``, the product's ``run_worker``) on the real broker;
  this process asks, as a web process would.

Measured per repeat: ``stored_s``, the jobs table's ``finished_at - cancel_requested_at`` (both
written by the database's clients on this machine: the request, and the worker storing the job
cancelled after its task stopped); ``seen_s``, seconds from the ``cancel()`` call until a poll
(every 20 ms) reads ``cancelled``; in-process also ``task_s``, from the call to the task seeing
its token. A repeat whose job does not end ``cancelled`` within ``--timeout`` seconds, or ends in
another state, or runs more than once, counts as a failure (reported beside the times).
Settings are the product's defaults (``job_heartbeat_s`` 60, ``job_cancel_poll_s`` 1).

Usage:
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/job_cancel.py --repeats 20 \\
        --out benchmarks/results/job_cancel
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.evaluation.bootstrap import bootstrap_statistic_ci  # noqa: E402
from cinerec.jobs.base import JobRunner  # noqa: E402
from cinerec.jobs.broker import BrokerRunner  # noqa: E402
from cinerec.jobs.inprocess import InProcessRunner  # noqa: E402
from tests.jobs.conftest import (  # noqa: E402
    AMQP_URL,
    REDIS_URL,
    REPO,
    Patient,
    _amqp_ok,
    _cleanup,
    _env,
    _redis_ok,
    tiny_platforms,
)

MODES = ("inprocess-local", "inprocess-table", "redis", "rabbitmq")
HEARTBEAT_S = 60.0  # the product's default (Settings.job_heartbeat_s)


def _until(check: Callable[[], bool], timeout_s: float, poll_s: float = 0.02) -> bool:
    end = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= end:
            return False
        time.sleep(poll_s)
    return True


def one_repeat(
    runner: JobRunner, asker: JobRunner, patient: Patient | None, rng: random.Random,
    timeout_s: float,
) -> dict[str, Any]:  # fmt: skip
    """Enqueue, wait until running, cancel through ``asker``; the row of one repeat."""
    if patient is not None:
        patient.reset()
    job_id = runner.enqueue("patient")
    if not _until(lambda: runner.get(job_id).state == "running", timeout_s):
        return {"job": job_id, "ok": False, "why": f"never ran ({runner.get(job_id).state})"}
    time.sleep(rng.uniform(0.2, 1.2))
    asked = time.monotonic()
    asker.cancel(job_id)
    ended = _until(lambda: runner.get(job_id).finished, timeout_s)
    seen_s = time.monotonic() - asked
    view = runner.get(job_id)
    row: dict[str, Any] = {"job": job_id, "state": view.state, "attempts": view.job.attempts,
                           "seen_s": round(seen_s, 4)}  # fmt: skip
    if patient is not None and patient.stopped_at is not None:
        row["task_s"] = round(patient.stopped_at - asked, 4)
    if view.job.cancel_requested_at and view.job.finished_at:
        stored = view.job.finished_at - view.job.cancel_requested_at
        row["stored_s"] = round(stored.total_seconds(), 4)
    row["ok"] = bool(ended and view.state == "cancelled" and view.job.attempts == 1)
    if not row["ok"]:
        row["why"] = f"ended {view.state} after {view.job.attempts} attempt(s)"
    return row


def run_inprocess(mode: str, repeats: int, seed: int, timeout_s: float) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp, tiny_platforms(Path(tmp)) as make:
        patient = Patient(most_s=600.0)
        platform = make(job_heartbeat_s=HEARTBEAT_S)
        runner = InProcessRunner(platform, {"patient": patient}, max_attempts=3)
        asker = runner if mode == "inprocess-local" else InProcessRunner(platform, {})
        return [one_repeat(runner, asker, patient, rng, timeout_s) for _ in range(repeats)]


def run_broker(mode: str, repeats: int, seed: int, timeout_s: float) -> list[dict[str, Any]]:
    url = REDIS_URL if mode == "redis" else AMQP_URL
    problem = _redis_ok(url) if mode == "redis" else _amqp_ok(url)
    if problem:
        raise SystemExit(f"no {mode} at {url}: {problem}")
    rng = random.Random(seed)
    queue = f"cinerec-bench-{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp, tiny_platforms(Path(tmp)) as make:
        platform = make(broker_url=url, job_queue=queue, job_heartbeat_s=HEARTBEAT_S)
        env = {**_env(platform), "CINEREC_JOB_HEARTBEAT_S": str(HEARTBEAT_S)}
        log = (Path(tmp) / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.jobs.patient_worker"], cwd=REPO, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        web = BrokerRunner(platform, {"patient": Patient()})  # enqueues and asks only
        try:
            return [one_repeat(web, web, None, rng, timeout_s) for _ in range(repeats)]
        finally:
            web.close()
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
            _cleanup(url, queue)


def quantiles(values: list[float]) -> dict[str, Any]:
    """p50 and p95 with their percentile-bootstrap 95% intervals (2000 resamples)."""
    arr = np.asarray(values, dtype=float)
    out: dict[str, Any] = {"n": len(values), "max": round(float(arr.max()), 4)}
    for q in (50, 95):
        ci = bootstrap_statistic_ci(
            lambda idx, q=q: np.percentile(arr[idx], q, axis=1),
            float(np.percentile(arr, q)), len(arr), resamples=2000, seed=q,
        )  # fmt: skip
        out[f"p{q}"] = [round(ci.mean, 4), round(ci.low, 4), round(ci.high, 4)]
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if r["ok"]]
    summary: dict[str, Any] = {"repeats": len(rows), "cancelled": len(ok),
                               "failures": len(rows) - len(ok)}  # fmt: skip
    for key in ("stored_s", "seen_s", "task_s"):
        values = [r[key] for r in ok if key in r]
        if values:
            summary[key] = quantiles(values)
    return summary


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Job cancel: request to stop (issue 22)",
        "",
        markdown_header(result["provenance"]),
        "Seconds, p50 and p95 with percentile-bootstrap 95% intervals; `stored`: the jobs "
        "table's finished_at - cancel_requested_at; `seen`: from the cancel call to a 20 ms "
        "poll reading cancelled; `task`: from the call to the task seeing its token "
        "(in-process only). Failures: not cancelled within the timeout, another end state, or "
        f"run more than once. job_heartbeat_s {HEARTBEAT_S:.0f}, job_cancel_poll_s 1 (defaults). "
        "Measured on a shared 2-core machine under other sessions' load: floors of a quiet "
        "machine's times.",
        "",
        "| mode | cancelled / repeats | stored p50 [95% CI] | stored p95 [95% CI] | "
        "seen p50 | seen p95 | task p50 | max stored |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def cell(s: dict[str, Any], key: str, q: str) -> str:
        if key not in s:
            return "-"
        v = s[key][q]
        return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

    for mode, s in result["modes"].items():
        lines.append(
            f"| {mode} | {s['cancelled']} / {s['repeats']} | {cell(s, 'stored_s', 'p50')} | "
            f"{cell(s, 'stored_s', 'p95')} | {cell(s, 'seen_s', 'p50')} | "
            f"{cell(s, 'seen_s', 'p95')} | {cell(s, 'task_s', 'p50')} | "
            f"{s.get('stored_s', {}).get('max', '-')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/job_cancel"))
    args = parser.parse_args(argv)
    record = provenance(argv if argv is None else ["benchmarks/job_cancel.py", *argv])
    os.environ.pop("CINEREC_BROKER_URL", None)
    result: dict[str, Any] = {"provenance": record, "modes": {}, "rows": {}}
    for mode in args.modes.split(","):
        run = run_inprocess if mode.startswith("inprocess") else run_broker
        rows = run(mode, args.repeats, args.seed, args.timeout)
        result["rows"][mode] = rows
        result["modes"][mode] = summarize(rows)
        print(mode, json.dumps(result["modes"][mode]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))


if __name__ == "__main__":
    main()
