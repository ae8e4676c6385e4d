"""Synthetic interactions whose right answer is known, shared by the recommender tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Interactions
from cinerec.llm.backends.cancel import CancelToken

# Two disjoint communities: users of A only watch A movies, users of B only B movies.
# B has more users, so B movies are the globally popular ones; a model that personalises
# must still answer an A history with A movies.
A_ITEMS = tuple(range(100, 120))
B_ITEMS = tuple(range(200, 220))
A_USERS = tuple(range(1, 21))
B_USERS = tuple(range(101, 141))


def make_communities(seed: int = 0) -> Interactions:
    """Each user rates 8 random movies of their own community, 3-5 stars."""
    rng = np.random.default_rng(seed)
    rows = []
    for users, items in ((A_USERS, A_ITEMS), (B_USERS, B_ITEMS)):
        for user in users:
            for t, item in enumerate(rng.choice(items, size=8, replace=False)):
                rows.append((user, int(item), float(rng.integers(3, 6)), 1_000_000 + 3600 * t))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    return Interactions(frame)


@pytest.fixture(scope="session")
def communities() -> Interactions:
    """The two-community data set (session-wide; never mutate it)."""
    return make_communities()


@pytest.fixture(scope="session")
def make_interactions() -> Callable[[int], Interactions]:
    """Builds a fresh copy of the two-community data set (for determinism checks)."""
    return make_communities


@pytest.fixture(scope="session")
def community_items() -> dict[str, tuple[int, ...]]:
    """Movie ids of each community: ``{"A": ..., "B": ...}``; B is the more popular one."""
    return {"A": A_ITEMS, "B": B_ITEMS}


class CancelAfter(CancelToken):
    """A cancel token that cancels itself at its ``n + 1``-th check: a training that checks it
    before each epoch stops after ``n`` epochs."""

    __slots__ = ("_left",)

    def __init__(self, n: int) -> None:
        super().__init__()
        self._left = n

    def check(self, what: str = "The model call", *, tokens: int = 0) -> None:
        if self._left == 0:
            self.cancel("the job was cancelled")
        self._left -= 1
        super().check(what, tokens=tokens)
