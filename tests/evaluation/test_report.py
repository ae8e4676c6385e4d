"""The report without the optional plot dependency: one line naming the extra, work kept."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from cinerec.evaluation.harness import HarnessOptions, ModelSpec, run_evaluation
from cinerec.evaluation.protocols import leave_one_out_task
from cinerec.evaluation.report import PLOT_FILE, REPORT_FILE


def test_missing_matplotlib_keeps_result_and_report(
    ratings: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    task = leave_one_out_task(ratings)
    result = run_evaluation(
        task,
        [ModelSpec("popularity")],
        out_dir=tmp_path,
        options=HarnessOptions(ks=(5, 10), resamples=50),
    )
    expected = "the plot needs the 'evaluation' extra: pip install -e '.[evaluation]'"
    assert result["notes"] == [expected]
    stored = json.loads((tmp_path / "result.json").read_text())
    assert stored["notes"] == [expected]
    assert "ndcg@5" in stored["models"]["popularity"]["results"]["test"]
    report = (tmp_path / REPORT_FILE).read_text()
    assert "| popularity |" in report and expected in report
    assert not (tmp_path / PLOT_FILE).exists()


def test_evaluate_command_prints_the_note_as_one_line(
    ratings: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cinerec.evaluation import commands as cli

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr(cli, "build_task", lambda *a, **k: leave_one_out_task(ratings))
    lines = cli.evaluate_command(
        protocol="loo", models="popularity", out_dir=tmp_path, data_dir=tmp_path, resamples=20
    )
    assert lines[-2] == "the plot needs the 'evaluation' extra: pip install -e '.[evaluation]'"
    assert lines[-1].startswith("Report:")
