"""cluster: shards, the bounded map on a real local Ray cluster, and configuration errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cinerec.batch.cluster import ClusterConfig, map_shards, split
from cinerec.batch.jobs import score_shard
from cinerec.errors import ConfigError
from cinerec.reviews.sentiment import TfidfSentimentConfig, TfidfSentimentModel


def test_split_keeps_order_and_sizes() -> None:
    assert split(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert split([], 3) == []
    with pytest.raises(ConfigError, match="at least 1"):
        split([1], 0)


def test_config_refuses_no_workers_and_describes_itself() -> None:
    with pytest.raises(ConfigError, match="workers"):
        ClusterConfig(workers=0)
    assert ClusterConfig(workers=1).describe() == "local Ray cluster, 1 worker"
    assert "ray://head:10001" in ClusterConfig(address="ray://head:10001").describe()


def test_map_runs_each_shard_as_a_ray_task_in_order(ray_local: Any) -> None:
    model = TfidfSentimentModel(TfidfSentimentConfig(word_ngrams=(1, 1), char_ngrams=None))
    model.fit(["great film", "awful film", "great acting", "awful plot"], [1, 0, 1, 0])
    texts = ["great", "awful", "great great", "awful awful", "film"]
    seen: list[int] = []
    out = map_shards(
        score_shard,
        split(texts, 2),
        ClusterConfig(workers=1),
        shared={"sentiment": model},
        on_result=lambda i, _r: seen.append(i),
    )
    assert sorted(seen) == [0, 1, 2]
    got = np.concatenate(out)
    np.testing.assert_allclose(got, model.predict_proba(texts)[:, 1], rtol=1e-6)
    assert got[0] > 0.5 > got[1]
    assert ray_local.is_initialized()  # a session opened outside is left open
