from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cinerec.embeddings.finetune import (
    FinetuneConfig,
    batches_without_repeats,
    co_preference_pairs,
    finetune_minilm,
)
from cinerec.errors import ConfigError, DataError

FRAME = pd.DataFrame(
    {
        "user_id": [1, 1, 1, 1, 2, 2, 2, 3, 3],
        "item_id": [10, 11, 12, 13, 20, 21, 10, 30, 31],
        "rating": [5.0, 4.0, 4.5, 1.0, 5.0, 4.0, 2.0, 5.0, 3.0],
        "timestamp": range(9),
    }
)


def test_pairs_are_distinct_likes_of_one_user() -> None:
    pairs = co_preference_pairs(FRAME, min_rating=4.0, max_pairs=100, seed=1)
    likes = {1: {10, 11, 12}, 2: {20, 21}}
    assert pairs and len(pairs) == len(set(pairs))
    for a, b in pairs:
        assert a < b and any({a, b} <= liked for liked in likes.values())
    assert set(pairs) == {(10, 11), (10, 12), (11, 12), (20, 21)}  # all of them, no more
    assert len(co_preference_pairs(FRAME, max_pairs=2)) == 2


def test_no_two_likes_is_an_error() -> None:
    with pytest.raises(DataError, match="lower min_rating"):
        co_preference_pairs(FRAME, min_rating=5.0)


def test_batches_never_repeat_a_movie() -> None:
    rng = np.random.default_rng(0)
    pairs = list({(int(a), int(b)) for a, b in rng.integers(0, 30, size=(200, 2)) if a < b})
    batches = batches_without_repeats(pairs, batch_size=8, seed=0)
    for batch in batches:
        ids = [i for pair in batch for i in pair]
        assert len(ids) == len(set(ids)) and 2 <= len(batch) <= 8
    assert sum(len(b) for b in batches) >= len(pairs) - 1


def test_config_rejects_a_batch_without_negatives() -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        FinetuneConfig(batch_size=1)


@pytest.mark.slow
def test_real_finetune_saves_a_loadable_model(tmp_path: Path) -> None:
    from cinerec.embeddings.minilm import MiniLMConfig, MiniLMEmbedder

    texts = {i: f"Movie {i}. Genres: {'Comedy' if i % 2 else 'War'}." for i in range(8)}
    pairs = [(0, 2), (1, 3), (4, 6), (5, 7)]
    config = FinetuneConfig(max_pairs=4, batch_size=4, max_seq_tokens=16)
    run = finetune_minilm(pairs, texts, tmp_path / "m", config)
    assert run["steps"] == 1 and run["pairs"] == 4
    assert (tmp_path / "m" / "finetune.json").is_file()
    tuned = MiniLMEmbedder(MiniLMConfig(model_dir=str(tmp_path / "m")))
    assert tuned.name.startswith("minilm-") and tuned.name != "minilm"
    vectors = tuned.embed_passages(list(texts.values()))
    assert vectors.shape == (8, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
