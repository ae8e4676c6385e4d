"""Protocol newviewer: a user-disjoint split with a stable digest, and no target leaks into
ticks or statements."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cinerec.evaluation.newviewer import (
    NEWVIEWER_KS,
    newviewer_data,
    newviewer_task,
    statements_digest,
    user_split,
)
from cinerec.ranking.statements import names_title
from tests.ranking.conftest import ROMANCE, SCIFI, make_catalog, make_ratings

STATEMENTS = Path(__file__).parents[2] / "benchmarks" / "data"


@pytest.fixture(scope="module")
def data():
    return newviewer_data(make_ratings(), make_catalog(), dataset="synthetic", seed=3)


def test_split_is_user_disjoint_with_the_asked_fractions() -> None:
    train, val, test, digest = user_split(
        range(1, 101), seed=1, test_fraction=0.2, validation_fraction=0.1
    )
    assert (len(train), len(val), len(test)) == (70, 10, 20)
    assert (
        not (set(train) & set(val)) and not (set(train) & set(test)) and not (set(val) & set(test))
    )
    assert (
        user_split(range(1, 101), seed=1, test_fraction=0.2, validation_fraction=0.1)[3] == digest
    )
    assert (
        user_split(range(1, 101), seed=2, test_fraction=0.2, validation_fraction=0.1)[3] != digest
    )


def test_models_train_on_other_users_only(data) -> None:
    held = {v.user_id for v in (*data.test, *data.validation)}
    assert held
    assert not held & set(data.train["user_id"].unique().tolist())


def test_no_target_leaks_into_ticks_or_statements(data) -> None:
    ratings = make_ratings()
    titles = {m.movie_id: m.title for m in make_catalog()}
    for v in (*data.test, *data.validation):
        rated = dict(
            ratings[ratings["user_id"] == v.user_id][["item_id", "rating"]].itertuples(
                index=False, name=None
            )
        )
        targets = set(v.targets)
        assert targets and all(rated[t] >= 4.0 for t in targets)
        assert not targets & set(v.statement_items)
        for draw, ticks in v.ticks.items():
            assert len(ticks) == 10 and len(set(ticks)) == 10, draw
            assert not targets & set(ticks)
            assert set(ticks) <= set(rated) and not set(ticks) & set(v.statement_items)
        for text in v.statements.values():
            assert names_title(text, [titles[t] for t in targets]) is None, text


def test_a_keyword_that_is_a_title_is_never_written(data) -> None:
    # "paris" is a romance keyword and the title of sci-fi movie 7: no statement says it
    romance_fans = [v for v in (*data.test, *data.validation) if v.user_id % 2 == 0]
    assert romance_fans
    for v in romance_fans:
        assert "Romance" in v.facts.liked_genres
        assert "paris" not in v.facts.keywords
        assert "paris" not in v.statements["en"].casefold()


def test_statements_carry_the_taste_in_both_languages(data) -> None:
    scifi_fan = next(v for v in data.test if v.user_id % 2 == 1)
    assert "sci-fi" in scifi_fan.statements["en"].casefold()
    assert "SF" in scifi_fan.statements["ko"]
    assert "Ann Orbit" in scifi_fan.statements["en"]
    assert any("\uac00" <= ch <= "\ud7a3" for ch in scifi_fan.statements["ko"])


def test_ticks_of_k_are_the_first_k_of_one_draw_and_cases_share_targets(data) -> None:
    task = newviewer_task(data)
    assert task.settings["split_digest"] == data.split_digest
    first = {k: task.test_sets[f"k={k}/popular/en"][0] for k in NEWVIEWER_KS}
    assert [len(c.history) for c in first.values()] == list(NEWVIEWER_KS)
    assert first[3].history == first[10].history[:3]
    assert len({c.targets for c in first.values()}) == 1
    assert (
        first[3].features["statement"] != task.test_sets["k=3/popular/ko"][0].features["statement"]
    )
    assert {h.rating for c in first.values() for h in c.history} == {None}


def test_popular_draw_favours_popular_movies() -> None:
    frame = make_ratings(n_users=300)
    # make the first five sci-fi movies very popular among the training users
    extra = pd.DataFrame(
        [(u, i, 5.0, 999) for u in range(1, 301, 2) for i in SCIFI[:5]],
        columns=frame.columns,
    ).drop_duplicates(["user_id", "item_id"])
    frame = pd.concat([frame, extra]).drop_duplicates(["user_id", "item_id"], keep="last")
    data = newviewer_data(frame, make_catalog(), dataset="synthetic", seed=0)
    share = {
        draw: sum(i in SCIFI[:5] for v in data.test for i in v.ticks[draw][:3])
        for draw in ("popular", "uniform")
    }
    assert share["popular"] > share["uniform"]
    assert ROMANCE  # both genres exist in the catalog


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["ml-latest-small", "ml-100k"])
def test_committed_statements_are_the_protocols(dataset: str) -> None:
    from cinerec.data.catalog import load_catalog
    from cinerec.data.movielens import load_ratings
    from cinerec.data.paths import resolve_data_dir

    root = resolve_data_dir(None)
    if not (root / dataset).exists():
        pytest.skip(f"{dataset} is not in the data directory")
    committed = json.loads((STATEMENTS / f"newviewer_statements_{dataset}.json").read_text())
    data = newviewer_data(
        load_ratings(root, dataset).frame, load_catalog(root, dataset), dataset=dataset, seed=42
    )
    assert committed["split_digest"] == data.split_digest
    assert committed["statements_digest"] == statements_digest(data)
