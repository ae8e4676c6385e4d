"""Artifacts on disk: meta.json round trip, stable versions, and clear errors when broken."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cinerec.data.fingerprint import fingerprint_interactions
from cinerec.data.types import Interactions, Rated
from cinerec.errors import ModelError
from cinerec.recommenders.als import ALSConfig, ALSRecommender
from cinerec.recommenders.artifacts import (
    META_FILE,
    load_artifact,
    save_artifact,
    train_artifact,
)
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.popularity import PopularityConfig, PopularityRecommender

OPTIONS = TrainingOptions(seed=1, threads=1)
SMALL_ALS = {"factors": 4, "iterations": 3}


@pytest.fixture
def popularity(communities: Interactions) -> PopularityRecommender:
    model = PopularityRecommender(PopularityConfig(min_rating=4.0))
    model.fit(communities, OPTIONS)
    return model


def test_meta_round_trip(popularity: PopularityRecommender, tmp_path: Path) -> None:
    info = save_artifact(
        popularity,
        tmp_path / "pop",
        config=popularity.config,
        data_fingerprint="abc123",
        train_seconds=1.23456,
        extra={"ndcg@10": 0.04},
    )
    model, loaded = load_artifact(tmp_path / "pop")
    assert isinstance(model, PopularityRecommender)
    assert loaded == info
    assert loaded.config == {"min_rating": 4.0, "recent_days": None}
    assert (loaded.data_fingerprint, loaded.train_seconds) == ("abc123", 1.235)
    assert loaded.extra == {"ndcg@10": 0.04}
    assert datetime.fromisoformat(loaded.trained_at).tzinfo is not None
    meta = json.loads((tmp_path / "pop" / META_FILE).read_text())
    assert meta["version"] == info.version and meta["name"] == "popularity"
    assert model.recommend([Rated(100)], n=5) == popularity.recommend([Rated(100)], n=5)


def test_version_is_stable_and_tracks_config_and_data(
    popularity: PopularityRecommender, tmp_path: Path
) -> None:
    def version(config: PopularityConfig, fingerprint: str, where: str) -> str:
        return save_artifact(
            popularity, tmp_path / where, config=config, data_fingerprint=fingerprint
        ).version

    first = version(popularity.config, "f1", "a")
    assert first.startswith("popularity-") and len(first) == len("popularity-") + 12
    assert version(popularity.config, "f1", "b") == first
    assert version(popularity.config, "f2", "c") != first
    assert version(PopularityConfig(), "f1", "d") != first


def test_train_artifact_records_fingerprint_and_time(
    communities: Interactions, tmp_path: Path
) -> None:
    model, info = train_artifact("als", communities, tmp_path / "als", config=SMALL_ALS)
    assert info.data_fingerprint == fingerprint_interactions(communities)
    assert info.train_seconds is not None and info.train_seconds >= 0
    assert info.config["factors"] == 4 and info.config["iterations"] == 3
    loaded, again = load_artifact(tmp_path / "als")
    assert isinstance(loaded, ALSRecommender) and again.version == info.version
    assert loaded.config == ALSConfig(**SMALL_ALS)
    assert loaded.recommend([Rated(100, 4.0)], n=5) == model.recommend([Rated(100, 4.0)], n=5)


def test_saving_again_replaces_the_artifact(
    popularity: PopularityRecommender, communities: Interactions, tmp_path: Path
) -> None:
    save_artifact(popularity, tmp_path / "m", config=popularity.config, data_fingerprint="x")
    train_artifact("als", communities, tmp_path / "m", config=SMALL_ALS)
    model, info = load_artifact(tmp_path / "m")
    assert info.name == "als" and isinstance(model, ALSRecommender)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging leftovers


def test_missing_artifact_says_run_train(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cinerec train"):
        load_artifact(tmp_path / "never-trained")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / META_FILE).write_text("{not json"),
        lambda d: (d / META_FILE).write_text(json.dumps({"name": "als"})),
        lambda d: (d / META_FILE).write_text(
            (d / META_FILE).read_text().replace('"popularity"', '"svd++"')
        ),
        lambda d: (d / "model.npz").write_bytes(b"PK\x03\x04 truncated"),
        lambda d: (d / "model.npz").unlink(),
        lambda d: (d / "model.json").write_text('{"name": "popularity", "format_version": 99}'),
        lambda d: (d / META_FILE).write_text(
            (d / META_FILE).read_text().replace('"min_rating": 4.0', '"min_rating": 1.0')
        ),
    ],
    ids=["bad-json", "missing-keys", "unknown-name", "corrupt-npz", "no-npz", "format", "config"],
)
def test_corrupt_artifact_is_model_error(
    damage: object, popularity: PopularityRecommender, tmp_path: Path
) -> None:
    directory = tmp_path / "pop"
    save_artifact(popularity, directory, config=popularity.config, data_fingerprint="x")
    damage(directory)  # type: ignore[operator]
    with pytest.raises(ModelError, match="cinerec train|retrain"):
        load_artifact(directory)
