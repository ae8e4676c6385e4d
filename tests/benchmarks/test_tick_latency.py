"""The tick benchmark's summary: slow ticks and errors are counted, not hidden."""

from __future__ import annotations

from benchmarks.load.tick_latency import KINDS, markdown, summarise


def _session(condition: str, seconds: list[float], status: int = 200) -> dict:
    requests = [{"kind": k, "status": status, "s": s} for s in seconds for k in KINDS]
    return {"condition": condition, "requests": requests, "server_cpu_share": 1.0}


def test_slow_ticks_and_errors_are_counted_per_condition() -> None:
    rows = [
        _session("warming", [0.01, 0.02, 6.0]),
        _session("idle", [0.01, 0.01, 0.02]),
        _session("idle", [0.01], status=500),
    ]
    summary = summarise(rows)
    assert summary["warming"]["tick"]["over_5s"] == 1
    assert summary["warming"]["tick"]["over_1s"] == 1
    assert summary["warming"]["tick"]["max_s"] == 6.0
    assert summary["idle"]["tick"]["over_1s"] == 0
    assert summary["idle"]["errors"] == len(KINDS)  # every request of the failed session
    assert summary["warming"]["errors"] == 0


def test_the_table_names_every_condition_and_kind() -> None:
    rows = [_session("warming", [0.01, 0.02]), _session("idle", [0.01, 0.03])]
    result = {
        "provenance": {"command": "x", "git_sha": "abc"},
        "model": "m", "threads": 2, "start_rounds": 0, "settled_s": 1.0, "rounds": 2,
        "ticks": 2, "pace_s": 1.0, "load_average_before_after": [],
        "summary": summarise(rows),
    }  # fmt: skip
    table = markdown(result)
    for condition in ("warming", "idle"):
        for kind in KINDS:
            assert f"| {condition} | {kind} |" in table
