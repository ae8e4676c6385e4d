"""The protocol every recommender follows, and the options that travel into training."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

from cinerec.data.types import Interactions, Rated, ScoredItem


@dataclass(frozen=True, slots=True)
class TrainingOptions:
    """What every training run receives: seed, threads, and whether to show progress."""

    seed: int = 42
    threads: int = 2
    progress: bool = False


@runtime_checkable
class Recommender(Protocol):
    """Fit on interactions; recommend for any history, including a brand-new user's.

    A new user is *folded in* from their history at recommend time; nothing is retrained.
    ``recommend`` returns at most ``n`` items, best first, never an item in ``exclude`` or in
    the history, and only items the model knows.
    """

    name: str

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None: ...

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> Self: ...
