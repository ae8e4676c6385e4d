"""A tiny catalog and ratings where each user's taste is one of two genres, shared by the
newviewer protocol and learned-ranker tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cinerec.data.types import Movie

SCIFI = tuple(range(1, 41))
ROMANCE = tuple(range(41, 81))


def make_catalog() -> list[Movie]:
    """40 sci-fi movies about space (one titled "Paris", a keyword of the other genre) and
    40 romances in Paris; a director per genre."""
    movies = []
    for i in SCIFI:
        title = "Paris" if i == 7 else f"Star Film {i}"
        movies.append(
            Movie(
                i,
                title,
                1980 + i % 10,
                ("Sci-Fi",),
                keywords=("space", "robot", f"kw{i}"),
                director="Ann Orbit",
                description=f"{title}. Sci-Fi. space robot galaxy kw{i}",
            )
        )
    for i in ROMANCE:
        movies.append(
            Movie(
                i,
                f"Love Film {i}",
                2000 + i % 10,
                ("Romance",),
                keywords=("paris", "wedding", f"kw{i}"),
                director="Bea Heart",
                description=f"Love Film {i}. Romance. paris wedding kiss kw{i}",
            )
        )
    return movies


def make_ratings(n_users: int = 120, seed: int = 0) -> pd.DataFrame:
    """Each user rates 22 movies of their genre 4-5 stars and 8 of the other 1-2 stars."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, n_users + 1):
        mine, other = (SCIFI, ROMANCE) if user % 2 else (ROMANCE, SCIFI)
        for t, item in enumerate(rng.choice(mine, size=22, replace=False)):
            rows.append((user, int(item), float(rng.choice([4.0, 4.5, 5.0])), t))
        for t, item in enumerate(rng.choice(other, size=8, replace=False)):
            rows.append((user, int(item), float(rng.choice([1.0, 2.0])), 100 + t))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


@pytest.fixture(scope="session")
def catalog() -> list[Movie]:
    return make_catalog()


@pytest.fixture(scope="session")
def ratings() -> pd.DataFrame:
    return make_ratings()
