"""The protocol every recommender follows, the options that travel into training, and the
optional capabilities: side information (:class:`FeatureAware`), item descriptions
(:class:`TextAware`) and scoring many histories in one pass (:class:`BatchScorer`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.llm.backends.cancel import CancelToken


@dataclass(frozen=True, slots=True)
class TrainingOptions:
    """What every training run receives: seed, threads, whether to show progress, and a cancel
    token that a model with epochs checks before each one (a cancelled job's training stops
    there, raising :class:`~cinerec.llm.backends.cancel.Cancelled`; not part of what a run is,
    so :meth:`settings` leaves it out)."""

    seed: int = 42
    threads: int = 2
    progress: bool = False
    cancel: CancelToken | None = field(default=None, compare=False, repr=False)

    def settings(self) -> dict[str, Any]:
        """The options that shape the result (for a result file): seed, threads, progress."""
        return {"seed": self.seed, "threads": self.threads, "progress": self.progress}


@runtime_checkable
class Recommender(Protocol):
    """Fit on interactions; recommend for any history, including a brand-new user's.

    A new user is *folded in* from their history at recommend time; nothing is retrained.
    ``recommend`` returns at most ``n`` items, best first, never an item in ``exclude`` or in
    the history, and only items the model knows. ``config`` is the typed settings it was built
    with (a frozen dataclass; a registry entry takes it as its one constructor argument), saved
    with its artifact and compared when the artifact is loaded.
    """

    name: str
    config: Any

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None: ...

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> Self: ...


UserFeatures = Mapping[int, Mapping[str, Any]]
"""User id -> side information, e.g. ``{"age": 25, "gender": "F", "occupation": "writer"}``."""
ItemFeatures = Mapping[int, Sequence[str]]
"""Movie id -> descriptive tokens, e.g. its genres ``("Comedy", "Romance")``."""


@runtime_checkable
class FeatureAware(Recommender, Protocol):
    """A recommender that can also use side information about users and items.

    Callers that have features (the evaluation harness, a service with a profile) check
    ``isinstance(model, FeatureAware)``, call :meth:`fit_features` before ``fit`` and ask
    :meth:`recommend_for` instead of ``recommend``; every other caller keeps using the plain
    :class:`Recommender` methods, which must still work without any features.
    """

    def fit_features(self, user_features: UserFeatures, item_features: ItemFeatures) -> None:
        """Remember the training users' and the items' features for the next ``fit``."""
        ...

    def recommend_for(
        self,
        history: Sequence[Rated],
        n: int,
        exclude: Collection[int] = (),
        features: Mapping[str, Any] | None = None,
    ) -> list[ScoredItem]:
        """Like ``recommend``, for a user also described by ``features`` (may be empty)."""
        ...


ItemTexts = Mapping[int, str]
"""Movie id -> description (the catalog's text of the movie)."""
TextSource = Callable[[], ItemTexts]
"""Gives the descriptions when called (loading a catalog only when a model needs it)."""


@runtime_checkable
class TextAware(Recommender, Protocol):
    """A recommender that needs the items' descriptions to fit (the content model).

    It reads nothing from disk: whoever fits it passes where the descriptions come from
    first, with :func:`give_texts` (a no-op for every other recommender).
    """

    def fit_texts(self, texts: TextSource) -> None:
        """Remember where the items' descriptions come from; the next ``fit`` calls it."""
        ...


def give_texts(model: Recommender, texts: TextSource | None) -> None:
    """Pass ``texts`` to ``model`` when it is :class:`TextAware`; it is called only by a model
    that embeds descriptions, so other models never load a catalog."""
    if texts is not None and isinstance(model, TextAware):
        model.fit_texts(texts)


@dataclass(frozen=True, slots=True)
class ScoreMatrix:
    """Scores of many histories over a model's items.

    Attributes:
        items: the model's item vocabulary; column ``j`` of :attr:`scores` is
            ``items.id(j)``.
        scores: ``(histories, len(items))``, higher is better. Row ``k`` holds the scores
            ``recommend(histories[k], ...)`` ranks by, before the history is left out (the
            popularity fallback included, for a history with no known movie).
    """

    items: Vocabulary
    scores: np.ndarray


@runtime_checkable
class BatchScorer(Recommender, Protocol):
    """A recommender that can score many histories in one pass (matrix operations).

    The evaluation harness ranks a whole test split through :meth:`score_batch` when a model
    offers it, and through one ``recommend`` call per history otherwise; both give the same
    rankings (up to float rounding).
    """

    def score_batch(self, histories: Sequence[Sequence[Rated]]) -> ScoreMatrix:
        """Scores of every known item for each history (see :class:`ScoreMatrix`)."""
        ...
