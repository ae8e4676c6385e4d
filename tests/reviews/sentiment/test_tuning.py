"""The ASHA search: its space is checked up front and a real (local) Ray run fills the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from cinerec.errors import ConfigError
from cinerec.reviews.sentiment.tuning import SearchConfig, asha_search, table_markdown
from cinerec.reviews.transformer import TransformerConfig


def test_search_config_is_validated() -> None:
    with pytest.raises(ConfigError, match="max_epochs"):
        SearchConfig(max_epochs=6)
    with pytest.raises(ConfigError, match="lr_range"):
        SearchConfig(lr_range=(1e-3, 1e-5))
    with pytest.raises(ConfigError, match="reduction_factor"):
        SearchConfig(reduction_factor=1)


@pytest.mark.slow
def test_real_ray_asha_search(
    tiny_encoder: Path, toy_sentiment: tuple[list[str], list[int]], tmp_path: Path
) -> None:
    pytest.importorskip("ray.tune")
    texts, labels = toy_sentiment
    search = SearchConfig(
        num_samples=2,
        max_epochs=2,
        grace_period=1,
        cpus_per_trial=1,
        lr_range=(1e-4, 5e-3),
        batch_sizes=(8, 16),
        base=TransformerConfig(base_model=str(tiny_encoder), max_tokens=32, head_tokens=16),
    )
    result = asha_search(
        (texts[:80], labels[:80]), (texts[80:], labels[80:]), search, storage=tmp_path / "tune"
    )
    table = result.table
    assert len(table) == 2
    assert table["learning_rate"].between(1e-4, 5e-3).all()
    assert set(table["batch_size"]) <= {8, 16}
    assert table["epochs_run"].between(1, 2).all()
    assert table["best_val_accuracy"].is_monotonic_decreasing
    assert result.best["best_val_accuracy"] == table["best_val_accuracy"].max()
    assert "| trial |" in table_markdown(table)
    assert (tmp_path / "tune" / "sentiment-asha").is_dir()
