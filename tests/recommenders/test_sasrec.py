"""SASRec: the shared contract, training windows, and order sensitivity."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError
from cinerec.recommenders._sasrec_net import training_windows
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.sasrec import SASRecConfig, SASRecRecommender

from .test_contract import RecommenderContract

SMALL = SASRecConfig(max_len=8, hidden=16, layers=1, heads=1, dropout=0.0, epochs=30,
                     batch_size=16, learning_rate=5e-3)  # fmt: skip


class TestSASRecContract(RecommenderContract):
    registry_name = "sasrec"

    def make_model(self) -> Recommender:
        return SASRecRecommender(SMALL)


def test_training_windows_are_left_padded_next_item_pairs() -> None:
    inputs, targets = training_windows([np.array([1, 2, 3, 4, 5])], max_len=3, stride=2)
    np.testing.assert_array_equal(inputs, [[2, 3, 4], [0, 1, 2]])
    np.testing.assert_array_equal(targets, [[3, 4, 5], [0, 2, 3]])


def test_learns_a_deterministic_cycle() -> None:
    # Every user walks the cycle 1 -> 2 -> ... -> 6 -> 1 from a random start; the next item
    # is fully determined by the last one, which popularity or co-occurrence cannot tell.
    rng = np.random.default_rng(0)
    rows = []
    for user in range(40):
        start = int(rng.integers(6))
        for t in range(5):
            rows.append((user, (start + t) % 6 + 1, 4.0, t))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    model = SASRecRecommender(SMALL)
    model.fit(Interactions(frame), TrainingOptions(seed=0, threads=1))
    assert model.recommend([Rated(2), Rated(3)], n=1)[0].movie_id == 4
    assert model.recommend([Rated(5), Rated(6)], n=1)[0].movie_id == 1
    assert model.losses[-1] < model.losses[0]


def test_invalid_config_rejected() -> None:
    with pytest.raises(ConfigError, match="divide"):
        SASRecConfig(hidden=10, heads=3)
    with pytest.raises(ConfigError, match="dropout"):
        SASRecConfig(dropout=1.0)


def test_batch_scores_match_single_scores(communities: Interactions) -> None:
    model = SASRecRecommender(SMALL)
    model.fit(communities, TrainingOptions(seed=0, threads=1))
    histories = [[Rated(100), Rated(101)], [Rated(205)], [], [Rated(999_999)]]
    batch = model.batch_scores(histories, batch_size=3)
    assert batch.shape == (4, len(communities.items))
    for row, history in enumerate(histories[:2]):
        single = model.scores(history)
        assert single is not None
        np.testing.assert_allclose(batch[row], single, rtol=1e-4, atol=1e-4)
    assert model.scores([]) is None
    np.testing.assert_array_equal(batch[2], batch[3])  # both fall back to popularity


def test_monitor_sees_a_usable_model_and_can_stop(communities: Interactions) -> None:
    seen: list[int] = []

    def monitor(epoch: int, fitted: SASRecRecommender) -> bool:
        seen.append(epoch)
        assert len(fitted.recommend([Rated(100)], n=3)) == 3
        return epoch == 4

    model = SASRecRecommender(SMALL)
    model.fit(communities, TrainingOptions(seed=0, threads=1), monitor=monitor)
    assert seen == [1, 2, 3, 4]
    assert len(model.losses) == len(model.epoch_seconds) == 4


def test_trimmed_batch_keeps_positions() -> None:
    # Positions count from the right edge: dropping all-padding columns changes nothing.
    import torch

    from cinerec.recommenders._sasrec_net import SASRecNet

    torch.manual_seed(0)
    net = SASRecNet(10, max_len=6, hidden=8, layers=1, heads=1, dropout=0.0).eval()
    full = torch.tensor([[0, 0, 0, 3, 4, 5], [0, 0, 1, 2, 3, 4]])
    with torch.inference_mode():
        np.testing.assert_allclose(net(full)[:, -4:], net(full[:, -4:]), atol=1e-5)
        with pytest.raises(ValueError, match="At most 6"):
            net(torch.ones((1, 7), dtype=torch.long))


def test_length_batches_cover_every_row_once() -> None:
    from cinerec.recommenders._sasrec_net import length_batches

    lengths = np.array([1, 99, 3, 50, 99, 2, 98, 7, 60, 99])
    batches = length_batches(lengths, 3, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    assert all(len(b) <= 3 for b in batches)
    # Sorted by length up to the jitter: the longest windows share batches.
    spans = [np.ptp(lengths[b]) for b in batches]
    assert np.mean(spans) < np.ptp(lengths) / 2


def test_attention_dropout_validated() -> None:
    with pytest.raises(ConfigError, match="attention_dropout"):
        SASRecConfig(attention_dropout=-0.1)


def test_cosine_schedule_trains_and_unknown_schedule_rejected(communities: Interactions) -> None:
    model = SASRecRecommender(replace(SMALL, epochs=5, lr_schedule="cosine"))
    model.fit(communities, TrainingOptions(seed=0, threads=1))
    assert len(model.losses) == 5 and model.losses[-1] < model.losses[0]
    with pytest.raises(ConfigError, match="lr_schedule"):
        SASRecConfig(lr_schedule="step")


def test_a_cancelled_training_stops_before_its_next_epoch(communities: Interactions) -> None:
    from cinerec.llm.backends.cancel import Cancelled

    from .conftest import CancelAfter

    model = SASRecRecommender(SMALL)
    with pytest.raises(Cancelled, match="Training sasrec was stopped: the job was cancelled"):
        model.fit(communities, TrainingOptions(seed=0, threads=1, cancel=CancelAfter(2)))
    assert len(model.losses) == 2  # of SMALL.epochs
    assert TrainingOptions(cancel=CancelAfter(0)) == TrainingOptions()  # not part of a run
    assert TrainingOptions(seed=5).settings() == {"seed": 5, "threads": 2, "progress": False}
