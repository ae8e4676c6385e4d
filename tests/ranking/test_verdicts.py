"""Review verdicts per movie from IMDB reviews joined on the catalog's IMDb ids."""

from __future__ import annotations

import pandas as pd

from cinerec.data.types import Movie
from cinerec.ranking.verdicts import review_verdicts


def test_verdicts_join_on_imdb_ids_with_or_without_tt() -> None:
    catalog = [
        Movie(1, "A", imdb_id="tt0000042"),
        Movie(2, "B", imdb_id="0000043"),
        Movie(3, "C", imdb_id=None),
        Movie(4, "D", imdb_id="0000099"),
    ]
    reviews = pd.DataFrame(
        {
            "imdb_id": [42, 42, 42, 43, 7],
            "label": [1, 1, 0, 0, 1],
            "rating": [10, 8, 2, 1, 9],
        }
    )
    got = review_verdicts(catalog, reviews)
    assert set(got) == {1, 2}
    assert got[1] == (3.0, round(2 / 3, 4), 20 / 3)
    assert got[2] == (1.0, 0.0, 1.0)
