"""First start: a quick stand-in serves at once, the configured model trains as a job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.data.types import Interactions
from cinerec.recommenders.artifacts import train_artifact
from cinerec.recommenders.base import TrainingOptions
from cinerec.services import ingest
from cinerec.services.platform import FALLBACK_RECOMMENDER, Platform
from tests.jobs.conftest import MakePlatform, tiny_platforms, tiny_ratings


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[MakePlatform]:
    """Platforms on a tiny ml-latest-small look-alike, catalog already in the database."""
    with tiny_platforms(tmp_path) as make:
        yield make


def test_slow_recommender_serves_the_fallback_then_swaps_in(make_platform: MakePlatform) -> None:
    platform = make_platform(recommender="sasrec")
    name = platform.settings.recommender
    assert name in ingest.SLOW_RECOMMENDERS
    ingest.ensure_ready(platform, progress=False)
    assert platform.recommender[1].name == FALLBACK_RECOMMENDER
    assert platform.serving_fallback
    assert platform.served_version == (FALLBACK_RECOMMENDER, 1)

    job_id = ingest.start_background_training(platform)
    assert job_id is not None
    assert ingest.start_background_training(platform) == job_id  # one at a time
    view = platform.jobs.wait(job_id, timeout_s=300)
    assert view.state == "done" and view.job.attempts == 1
    assert view.job.result and view.job.result["name"] == name
    model, info = platform.recommender
    assert info.name == name and not platform.serving_fallback
    assert platform.served_version == (name, 1)
    assert len(model.recommend([], n=3)) == 3
    assert ingest.start_background_training(platform) is None  # nothing to do


def test_fast_recommender_trains_during_ensure_ready(make_platform: MakePlatform) -> None:
    platform = make_platform(recommender="ease")
    ingest.ensure_ready(platform, progress=False)
    assert platform.recommender[1].name == "ease"
    assert not platform.serving_fallback
    assert ingest.start_background_training(platform) is None


def test_artifact_trained_elsewhere_replaces_the_fallback(make_platform: MakePlatform) -> None:
    platform = make_platform(recommender="sasrec", model_poll_s=0)
    ingest.ensure_ready(platform, progress=False)
    assert platform.recommender[1].name == FALLBACK_RECOMMENDER
    # As if `cinerec train` had run in another process.
    frame = tiny_ratings().rename(columns={"userId": "user_id", "movieId": "item_id"})
    small = {"max_len": 8, "hidden": 16, "layers": 1, "heads": 1, "epochs": 2}
    train_artifact("sasrec", Interactions(frame), platform.artifact_dir(), config=small,
                   options=TrainingOptions(threads=1))  # fmt: skip
    assert platform.recommender[1].name == "sasrec"
    assert not platform.serving_fallback


def test_failed_background_training_keeps_the_fallback(
    make_platform: MakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = make_platform(recommender="sasrec")
    ingest.ensure_ready(platform, progress=False)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(ingest, "train_version", broken)
    job_id = ingest.start_background_training(platform)
    assert job_id is not None
    view = platform.jobs.wait(job_id, timeout_s=30)
    assert view.state == "failed" and view.job.error == "RuntimeError: out of memory"
    assert platform.serving_fallback
    assert platform.recommender[1].name == FALLBACK_RECOMMENDER


def test_no_background_training_for_an_injected_model(make_platform: MakePlatform) -> None:
    base = make_platform(recommender="sasrec")
    frame = tiny_ratings().rename(columns={"userId": "user_id", "movieId": "item_id"})
    model, info = train_artifact("ease", Interactions(frame), base.artifact_dir("ease"))
    platform = Platform(base.settings, recommender=(model, info))
    assert ingest.start_background_training(platform) is None
