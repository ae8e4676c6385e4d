"""benchmarks/llm_cancel.py on a fake model: the measured row and the report."""

from __future__ import annotations

from benchmarks.llm_cancel import markdown, one_repeat, summarize
from benchmarks.provenance import provenance
from tests.llm.fakes import TokenFake


def test_a_repeat_measures_the_full_run_and_the_freed_slot() -> None:
    row = one_repeat(TokenFake(token_s=0.002), max_tokens=100, after=3)
    assert row["full_pieces"] == 100 and row["pieces_read"] == 3
    assert 0 <= row["freed_s"] < 0.5 and row["tokens_at_stop"] is not None
    assert row["tokens_at_stop"] < 50


def test_the_report_has_a_row_per_measure() -> None:
    rows = [{"full_s": 1.0 + k, "full_pieces": 10, "freed_s": 0.01, "pieces_read": 3}
            for k in range(3)]  # fmt: skip
    result = {
        "runtime": "embedded", "model": "m", "threads": 1, "repeats": 3, "max_tokens": 10,
        "after": 3, "load_1min": [1.0, 1.0], "provenance": provenance(["x.py"]),
        "summary": {k: summarize(rows, k) for k in ["full_s", "full_pieces", "freed_s",
                                                    "pieces_read"]},
    }  # fmt: skip
    assert result["summary"]["full_s"]["median"] == 2.0
    text = markdown(result)
    assert "| cancel -> waiting page call gets the slot, s | 0.01" in text
    assert "next request" not in text  # measured only against a server
