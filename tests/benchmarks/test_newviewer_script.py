"""benchmarks/newviewer.py records the shared provenance and rechecks a written run's targets
(the with-statement model picked on validation users) without refitting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from benchmarks.newviewer import retarget, run_provenance

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "newviewer" / "ml-100k"


def test_provenance_is_the_shared_record_with_lightgbm() -> None:
    record = run_provenance(["--dataset", "ml-100k"])
    assert record["command"] == "python benchmarks/newviewer.py --dataset ml-100k"
    assert {"git_sha", "git_dirty", "cpu_count", "threads", "date_utc"} <= set(record)
    assert "lightgbm" in record["packages"] and "numpy" in record["packages"]


def test_retarget_picks_on_validation_and_keeps_the_numbers(tmp_path: Path) -> None:
    out = tmp_path / "ml-100k"
    shutil.copytree(RUN, out)
    before = json.loads((out / "result.json").read_text())
    retarget(out, resamples=100, argv=["--retarget"])
    after = json.loads((out / "result.json").read_text())
    assert after["table"] == before["table"]  # nothing refitted or rescored
    assert after["retargeted"]["command"] == "python benchmarks/newviewer.py --retarget"
    validation = after["validation"]["ndcg@10"]
    with np.load(out / "per_user.npz") as arrays:
        scored = {k.split("/", 1)[0] for k in arrays.files}
    candidates = [m for m in ("ltr", "page-genre", "statement-sim", "statement-sim-e5")
                  if m in scored and m in validation]  # fmt: skip
    best = max(candidates, key=validation.__getitem__)
    picked = [t for t in after["targets"].values() if "picked_on" in t]
    assert picked and all(t["model"] == best and t["picked_on"] == "validation" for t in picked)
    report = (out / "report.md").read_text()
    assert report.startswith("Command: `python benchmarks/newviewer.py")
    assert "Targets rechecked without refitting" in report and "picked on validation" in report
