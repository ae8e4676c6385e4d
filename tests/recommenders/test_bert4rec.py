"""BERT4Rec: the shared contract, cloze rows, bidirectional attention, order sensitivity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Interactions, Rated
from cinerec.errors import ConfigError
from cinerec.recommenders._bert4rec_net import cloze_rows, item_windows
from cinerec.recommenders.base import Recommender, TrainingOptions
from cinerec.recommenders.bert4rec import BERT4RecConfig, BERT4RecRecommender

from .test_contract import RecommenderContract

SMALL = BERT4RecConfig(max_len=8, hidden=16, layers=1, heads=1, dropout=0.0,
                       attention_dropout=0.0, mask_prob=0.3, epochs=40, batch_size=16,
                       learning_rate=5e-3)  # fmt: skip


class TestBERT4RecContract(RecommenderContract):
    registry_name = "bert4rec"

    def make_model(self) -> Recommender:
        return BERT4RecRecommender(SMALL)


def cycle_interactions(users: int = 80) -> Interactions:
    """Every user walks the cycle 1 -> 2 -> ... -> 6 -> 1 from a random start, 2 to 6 steps.

    Histories of mixed length matter: with windows of one length, the set of movies present
    tells which one is hidden, and the model need not read the order at all.
    """
    rng = np.random.default_rng(0)
    rows = []
    for user in range(users):
        start, length = int(rng.integers(6)), int(rng.integers(2, 7))
        for t in range(length):
            rows.append((user, (start + t) % 6 + 1, 4.0, t))
    return Interactions(pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]))


@pytest.fixture(scope="module")
def cycle_model() -> BERT4RecRecommender:
    model = BERT4RecRecommender(SMALL)
    model.fit(cycle_interactions(), TrainingOptions(seed=0, threads=1))
    return model


def test_item_windows_are_left_padded_and_strided() -> None:
    windows = item_windows([np.array([1, 2, 3, 4, 5]), np.array([7])], max_len=3, stride=2)
    np.testing.assert_array_equal(windows, [[3, 4, 5], [1, 2, 3]])  # [7] alone gives none


def test_cloze_rows_mask_only_real_items_and_always_one() -> None:
    windows = np.array([[0, 0, 1, 2, 3], [4, 5, 6, 7, 8], [0, 0, 0, 0, 9]])
    rng = np.random.default_rng(0)
    inputs, labels = cloze_rows(windows, mask_token=99, mask_prob=0.01, generator=rng)
    masked = inputs == 99
    assert masked.any(axis=1).all()  # a window that drew no mask has its last item masked
    np.testing.assert_array_equal(labels[masked], windows[masked])
    np.testing.assert_array_equal(labels[~masked], 0)
    np.testing.assert_array_equal(inputs[~masked], windows[~masked])
    inputs, _ = cloze_rows(windows, mask_token=99, mask_prob=0.99, generator=rng)
    assert not (inputs[windows == 0]).any()  # padding is never masked


def test_learns_a_deterministic_cycle(cycle_model: BERT4RecRecommender) -> None:
    # The next item is fully determined by the last one, which popularity or co-occurrence
    # cannot tell; the model must read the order through the appended [MASK].
    assert cycle_model.recommend([Rated(2), Rated(3)], n=1)[0].movie_id == 4
    assert cycle_model.recommend([Rated(5), Rated(6)], n=1)[0].movie_id == 1
    assert cycle_model.recommend([Rated(1), Rated(2)], n=1)[0].movie_id == 3
    assert cycle_model.losses[-1] < cycle_model.losses[0]


def test_attention_sees_later_items() -> None:
    # Bidirectional: changing an item after a position changes that position's state
    # (in SASRec's causal net it would not).
    import torch

    from cinerec.recommenders._bert4rec_net import BERT4RecNet

    torch.manual_seed(0)
    net = BERT4RecNet(10, max_len=4, hidden=8, layers=1, heads=1, dropout=0.0).eval()
    with torch.inference_mode():
        a = net(torch.tensor([[0, 1, 2, 3]]))
        b = net(torch.tensor([[0, 1, 2, 7]]))
        assert not torch.allclose(a[0, 1], b[0, 1])
        assert net.logits(a[:, -1]).shape == (1, 10)  # padding and [MASK] are not items
    assert net.mask_token == 11


def test_save_load_gives_identical_scores(cycle_model: BERT4RecRecommender, tmp_path: Path) -> None:
    cycle_model.save(tmp_path / "m")
    loaded = BERT4RecRecommender.load(tmp_path / "m")
    assert loaded.config == cycle_model.config
    for history in ([Rated(2), Rated(3)], [Rated(6)], [Rated(1), Rated(4), Rated(5)]):
        np.testing.assert_array_equal(loaded.scores(history), cycle_model.scores(history))


def test_fold_in_skips_unknown_ids_and_keeps_the_tail(
    cycle_model: BERT4RecRecommender,
) -> None:
    history = [Rated(2), Rated(999_999), Rated(3), Rated(123_456)]
    np.testing.assert_array_equal(
        cycle_model.scores(history), cycle_model.scores([Rated(2), Rated(3)])
    )
    assert cycle_model.scores([Rated(999_999)]) is None
    # Only the last max_len - 1 known items are read, then the mask.
    long = [Rated((t % 6) + 1) for t in range(30)]
    np.testing.assert_array_equal(cycle_model.scores(long), cycle_model.scores(long[-7:]))


def test_batch_scores_match_single_scores(cycle_model: BERT4RecRecommender) -> None:
    histories = [[Rated(1), Rated(2)], [Rated(5)], [], [Rated(999_999)]]
    batch = cycle_model.batch_scores(histories, batch_size=3)
    assert batch.shape == (4, 6)
    for row, history in enumerate(histories[:2]):
        np.testing.assert_allclose(batch[row], cycle_model.scores(history), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(batch[2], batch[3])  # both fall back to popularity


def test_monitor_sees_a_usable_model_and_can_stop(communities: Interactions) -> None:
    seen: list[int] = []

    def monitor(epoch: int, fitted: BERT4RecRecommender) -> bool:
        seen.append(epoch)
        assert len(fitted.recommend([Rated(100)], n=3)) == 3
        return epoch == 3

    model = BERT4RecRecommender(SMALL)
    model.fit(communities, TrainingOptions(seed=0, threads=1), monitor=monitor)
    assert seen == [1, 2, 3]
    assert len(model.losses) == len(model.epoch_seconds) == 3


def test_invalid_config_rejected() -> None:
    with pytest.raises(ConfigError, match="divide"):
        BERT4RecConfig(hidden=10, heads=3)
    with pytest.raises(ConfigError, match="mask_prob"):
        BERT4RecConfig(mask_prob=0.0)
    with pytest.raises(ConfigError, match="max_len"):
        BERT4RecConfig(max_len=1)
