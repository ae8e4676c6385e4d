"""Each job kind, run for real through the in-process runner on the tiny data set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cinerec.config import Settings
from cinerec.jobs.tasks import TASKS
from cinerec.services.platform import Platform
from tests.jobs.conftest import MakePlatform


def test_every_documented_job_exists() -> None:
    assert set(TASKS) == {"ingest", "train", "review_summaries", "embeddings", "evaluate"}


def test_train_publishes_a_version_and_refuses_unknown_args(make_platform: MakePlatform) -> None:
    platform = make_platform(recommender="ease")
    view = platform.jobs.wait(platform.jobs.enqueue("train", {"name": "ease"}), timeout_s=120)
    assert view.state == "done", view.job.error
    assert view.job.result and view.job.result["version"] == 1
    assert platform.served_version == ("ease", 1)
    bad = platform.jobs.wait(platform.jobs.enqueue("train", {"epochs": 3}), timeout_s=30)
    assert bad.state == "failed" and "Unknown job arguments ['epochs']" in (bad.job.error or "")


def test_evaluate_writes_its_report(make_platform: MakePlatform, tmp_path: Path) -> None:
    platform = make_platform()
    out = tmp_path / "eval"
    args = {"models": "popularity", "out_dir": str(out), "resamples": 20}
    view = platform.jobs.wait(platform.jobs.enqueue("evaluate", args), timeout_s=300)
    assert view.state == "done", view.job.error
    assert view.job.result and view.job.result["lines"]
    result = json.loads((out / "result.json").read_text())
    assert "popularity" in json.dumps(result)


def test_review_summaries_need_the_catalog_s_imdb_ids(make_platform: MakePlatform) -> None:
    platform = make_platform()
    view = platform.jobs.wait(platform.jobs.enqueue("review_summaries"), timeout_s=60)
    assert view.state == "failed"
    assert view.job.error == "DataError: The catalog has no IMDb ids; run `cinerec ingest` first."


def test_ingest_without_movies_fails_with_the_reason(make_platform: MakePlatform) -> None:
    platform = make_platform()
    view = platform.jobs.wait(platform.jobs.enqueue("ingest"), timeout_s=120)
    assert view.state == "failed" and "movies.csv is missing" in (view.job.error or "")


@pytest.mark.slow
def test_ingest_loads_the_real_catalog(tmp_path: Path, real_data_dir: Path) -> None:
    platform = Platform(Settings(home=tmp_path, data_dir=real_data_dir, llm_backend="none"))
    platform.migrate()
    try:
        view = platform.jobs.wait(platform.jobs.enqueue("ingest"), timeout_s=300)
        assert view.state == "done", view.job.error
        assert view.job.result and view.job.result["movies"] == 9742
        assert view.job.result["ratings"] == 100_836
    finally:
        platform.engine.dispose()


def test_a_cancelled_training_stops_between_epochs_and_publishes_nothing(
    make_platform: MakePlatform,
) -> None:
    import time

    from cinerec.db.jobs import list_versions

    platform = make_platform(recommender="ease")
    slow = {"max_len": 8, "hidden": 16, "layers": 1, "heads": 1, "epochs": 100_000}
    job_id = platform.jobs.enqueue("train", {"name": "sasrec", "config": slow, "threads": 1})
    deadline = time.monotonic() + 120
    while platform.jobs.get(job_id).state != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(3.0)  # loading torch and the ratings, then a few epochs
    asked = time.monotonic()
    platform.jobs.cancel(job_id)
    view = platform.jobs.wait(job_id, timeout_s=60, poll_s=0.05)
    assert time.monotonic() - asked < 30  # one epoch of the tiny set, on a loaded machine
    assert view.state == "cancelled" and view.job.attempts == 1
    assert (view.job.error or "").startswith("Cancelled: Training sasrec was stopped")
    with platform.session() as session:
        assert list_versions(session, name="sasrec") == []
    staged = platform.settings.artifacts_dir / "versions" / "sasrec"
    assert not staged.exists() or not [p for p in staged.iterdir() if not p.name.startswith(".")]


def test_the_embeddings_job_stops_when_cancelled(make_platform: MakePlatform) -> None:
    from cinerec.llm.backends.cancel import Cancelled, CancelToken

    token = CancelToken()
    token.cancel("the job was cancelled")
    with pytest.raises(Cancelled, match="embeddings job was stopped"):
        TASKS["embeddings"](make_platform(), {}, cancel=token)
