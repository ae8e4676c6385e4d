"""Most-popular baseline: the same ranking for everyone, minus what they have seen.

Example:
    >>> model = PopularityRecommender(PopularityConfig(min_rating=3.5))  # doctest: +SKIP
    >>> model.fit(interactions, TrainingOptions())  # doctest: +SKIP
    >>> model.recommend([Rated(1)], n=5)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd

from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.errors import ConfigError, ModelError
from cinerec.recommenders._common import blocked_indices, read_model, top_n, write_model
from cinerec.recommenders.base import ScoreMatrix, TrainingOptions

_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class PopularityConfig:
    """How popularity is counted.

    Attributes:
        min_rating: count only ratings at or above this value (None: every rating counts).
        recent_days: count only the last ``recent_days`` days before the newest timestamp in
            the training data (None: all time).
    """

    min_rating: float | None = None
    recent_days: int | None = None

    def __post_init__(self) -> None:
        if self.recent_days is not None and self.recent_days < 1:
            raise ConfigError(f"recent_days must be at least 1 or None, got {self.recent_days}")


def popularity_scores(frame: pd.DataFrame, items: Vocabulary) -> np.ndarray:
    """Interaction count per item plus mean rating / 10 to break ties (ratings are <= 5).

    Args:
        frame: interactions with ``item_id`` and ``rating`` columns.
        items: the vocabulary whose order the result follows; other ids are ignored.

    Returns:
        One float per item of ``items``; an item without interactions scores 0.
    """
    stats = frame.groupby("item_id")["rating"].agg(["size", "mean"]).reindex(items.ids)
    counts = stats["size"].fillna(0).to_numpy(np.float64)
    means = stats["mean"].fillna(0).to_numpy(np.float64)
    return counts + np.clip(means, 0.0, 5.0) / 10.0


class PopularityRecommender:
    """Ranks items by how often they were rated; ties go to the better-rated item.

    The score of an item is its interaction count plus its mean rating divided by ten, so the
    integer part is the count. The history only decides what is left out.
    """

    name = "popularity"

    def __init__(self, config: PopularityConfig | None = None) -> None:
        self.config = config or PopularityConfig()
        self._items: Vocabulary | None = None
        self._scores: np.ndarray | None = None

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Count interactions per item (``options`` is unused: counting is deterministic)."""
        df = interactions.frame
        if self.config.min_rating is not None:
            df = df[df["rating"] >= self.config.min_rating]
        if self.config.recent_days is not None and len(df):
            newest = int(interactions.frame["timestamp"].max())
            df = df[df["timestamp"] >= newest - self.config.recent_days * _SECONDS_PER_DAY]
        self._items = interactions.items
        self._scores = popularity_scores(df, interactions.items)

    def _fitted(self) -> tuple[Vocabulary, np.ndarray]:
        if self._items is None or self._scores is None:
            raise ModelError("The popularity model is not trained; call fit() or load an artifact")
        return self._items, self._scores

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """The ``n`` most popular items not in ``history`` or ``exclude``."""
        items, scores = self._fitted()
        return top_n(scores, items, n, blocked_indices(history, exclude, items))

    def score_batch(self, histories: Sequence[Sequence[Rated]]) -> ScoreMatrix:
        """The popularity scores once per history (a read-only broadcast view, no copies)."""
        items, scores = self._fitted()
        return ScoreMatrix(items, np.broadcast_to(scores, (len(histories), len(items))))

    def save(self, path: Path) -> None:
        """Write ``model.npz`` and ``model.json`` into directory ``path``."""
        items, scores = self._fitted()
        write_model(
            path, name=self.name, config=asdict(self.config), item_ids=items.ids, scores=scores
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`; :class:`ModelError` if missing or corrupt."""
        config, arrays = read_model(path, name=cls.name)
        try:
            model = cls(PopularityConfig(**config))
            ids, scores = arrays["item_ids"], arrays["scores"]
        except (TypeError, KeyError) as exc:
            raise ModelError(f"The popularity model at {path} is incomplete ({exc})") from exc
        if ids.shape != scores.shape:
            raise ModelError(f"The popularity model at {path} is inconsistent; retrain it")
        model._items, model._scores = Vocabulary(ids.tolist()), scores.astype(np.float64)
        return model
