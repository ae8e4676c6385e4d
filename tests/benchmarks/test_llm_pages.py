"""The LLM-pages benchmark's report: the target can fail, and the model server's speed is shown."""

from __future__ import annotations

from benchmarks.load.llm_pages import markdown, model_timings, summarise

LOG = (
    "slot print_timing: id  3 | task 7 | prompt eval time =  300.00 ms /  40 tokens (x)\n"
    "slot print_timing: id  3 | task 7 |        eval time =  600.00 ms /  24 tokens (x)\n"
)


def _result(first_reasons: list[float], timings: dict | None) -> dict:
    pages = [
        {"viewer": k, "page": 0, "status": 200, "ranked_s": 0.1, "cards": 5, "reasons": 5,
         "flagged": 0, "unaccounted": 0, "first_reason_s": s}
        for k, s in enumerate(first_reasons)
    ]  # fmt: skip
    rows = [{"viewer": p["viewer"], "pages": [p], "errors": []} for p in pages]
    return {
        "provenance": {"command": "llm_pages.py", "git_sha": "abc", "versions": {}},
        "args": {"viewers": len(pages), "pages": 1, "think": 5.0, "model": "m", "threads": 2},
        "runtime": "llama-server",
        "slots": 4,
        "gate_slots": 1,
        "wall_s": 60.0,
        "niceness": 0,
        "load_average_before_after": [[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]],
        "busiest_processes_before": [],
        "model_timings": timings,
        "summary": summarise(rows),
        "rows": rows,
    }


def test_a_slow_first_reason_misses_the_target_and_the_server_speed_is_reported() -> None:
    slow = markdown(_result([1.0, 2.0, 3.0, 9.0], model_timings(LOG)))
    assert "| MISSED |" in slow.split("first reason p95")[1].splitlines()[0]
    assert "7.5 ms per prompt token, 25.0 ms per generated token" in slow
    fast = markdown(_result([1.0, 1.5, 2.0, 2.5], None))
    assert "| met |" in fast.split("first reason p95")[1].splitlines()[0]
    assert "Model server timings: not in its log" in fast
