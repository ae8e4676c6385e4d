"""Train/validation/test splits for offline evaluation.

Three shapes, one per protocol:

* :func:`llamarec_leave_one_out`: every rating is an interaction; users and items with fewer
  than 5 interactions are dropped *repeatedly until nothing changes* (a fixed point, as
  LlamaRec's ``filter_triplets`` loop does); per user, interactions are ordered by
  ``(timestamp, item_id)``; the last item is the test target, the second-last the validation
  target, the rest is training.
* :func:`positive_split`: a published train/test split (ml-100k ``ua``) reduced to ratings at or
  above a threshold, as LightFM's ``fetch_movielens(min_rating=4.0)`` does.
* :func:`cold_start_split`: a random share of users is held out of training entirely; each
  held-out user keeps their first ``k`` items (by time) as the known history and the rest as
  targets.

Splits are plain frames with the columns of :class:`cinerec.data.types.Interactions`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cinerec.errors import DataError

_ORDER = ["user_id", "timestamp", "item_id"]


def filter_min_counts(frame: pd.DataFrame, *, min_user: int = 5, min_item: int = 5) -> pd.DataFrame:
    """Drop items with fewer than ``min_item`` and users with fewer than ``min_user`` rows.

    Dropping items can push a user under the threshold and vice versa, so both filters are
    applied alternately (items first) until a pass removes nothing.

    Example:
        >>> f = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [5, 6, 5]})
        >>> filter_min_counts(f, min_user=2, min_item=2)["item_id"].tolist()
        []
    """
    while True:
        before = len(frame)
        item_counts = frame.groupby("item_id")["item_id"].transform("size")
        frame = frame[item_counts >= min_item]
        user_counts = frame.groupby("user_id")["user_id"].transform("size")
        frame = frame[user_counts >= min_user]
        if len(frame) == before:
            return frame


@dataclass(frozen=True)
class LeaveOneOutSplit:
    """Per user: ``train`` (all but the last two), ``validation`` and ``test`` (one row each).

    Every frame is sorted by ``(user_id, timestamp, item_id)``; concatenating ``train`` and
    ``validation`` gives the history a model sees when it is asked for the test item.
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    @property
    def full(self) -> pd.DataFrame:
        """All three parts together, in time order per user."""
        return (
            pd.concat([self.train, self.validation, self.test])
            .sort_values(_ORDER, kind="stable")
            .reset_index(drop=True)
        )


def leave_one_out(frame: pd.DataFrame) -> LeaveOneOutSplit:
    """Hold out each user's last (test) and second-last (validation) interaction.

    Ties in time are broken by item id, so the split does not depend on row order.

    Raises:
        DataError: a user has fewer than 3 interactions (nothing would be left to train on).
    """
    ordered = frame.sort_values(_ORDER, kind="stable").reset_index(drop=True)
    sizes = ordered.groupby("user_id")["item_id"].transform("size")
    if len(ordered) and int(sizes.min()) < 3:
        short = ordered.loc[sizes < 3, "user_id"].unique()[:5].tolist()
        raise DataError(
            f"Users {short} have fewer than 3 interactions; filter them first "
            "(filter_min_counts) so each keeps a training, validation and test item."
        )
    from_end = ordered.groupby("user_id").cumcount(ascending=False).to_numpy()
    return LeaveOneOutSplit(
        train=ordered[from_end >= 2].reset_index(drop=True),
        validation=ordered[from_end == 1].reset_index(drop=True),
        test=ordered[from_end == 0].reset_index(drop=True),
    )


def llamarec_leave_one_out(frame: pd.DataFrame, *, min_count: int = 5) -> LeaveOneOutSplit:
    """LlamaRec's preprocessing: all ratings count, >= ``min_count`` filter, leave-one-out.

    On ml-latest-small this leaves 610 users and 3,650 items, the statistics LlamaRec reports
    for its "ML-100k" (which is ml-latest-small).
    """
    return leave_one_out(filter_min_counts(frame, min_user=min_count, min_item=min_count))


def positive_split(
    train: pd.DataFrame, test: pd.DataFrame, *, min_rating: float = 4.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep only ratings >= ``min_rating`` in both parts (the positives); users are untouched."""
    return (
        train[train["rating"] >= min_rating].reset_index(drop=True),
        test[test["rating"] >= min_rating].reset_index(drop=True),
    )


@dataclass(frozen=True)
class ColdStartSplit:
    """``train``: users not held out. ``held_out``: the held-out users' rows, in time order."""

    train: pd.DataFrame
    held_out: pd.DataFrame

    def known_and_targets(self, k: int) -> dict[int, tuple[pd.DataFrame, pd.DataFrame]]:
        """Per held-out user: (first ``k`` rows by time, the remaining rows)."""
        out: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
        for user, rows in self.held_out.groupby("user_id", sort=True):
            out[int(user)] = (rows.iloc[:k], rows.iloc[k:])
        return out


def cold_start_split(
    frame: pd.DataFrame, *, holdout_fraction: float = 0.2, min_items: int = 10, seed: int = 0
) -> ColdStartSplit:
    """Hold out a random ``holdout_fraction`` of the users with at least ``min_items`` rows.

    ``min_items`` guarantees that a held-out user still has targets after revealing the
    largest ``k`` (use ``min_items > max(k)``).
    """
    if not 0.0 < holdout_fraction < 1.0:
        raise DataError(f"holdout_fraction must lie in (0, 1), got {holdout_fraction}")
    ordered = frame.sort_values(_ORDER, kind="stable").reset_index(drop=True)
    sizes = ordered.groupby("user_id").size()
    eligible = np.sort(sizes.index[sizes >= min_items].to_numpy())
    rng = np.random.default_rng(seed)
    n_held = int(round(holdout_fraction * len(eligible)))
    held = set(rng.choice(eligible, size=n_held, replace=False).tolist())
    mask = ordered["user_id"].isin(held).to_numpy()
    return ColdStartSplit(
        train=ordered[~mask].reset_index(drop=True),
        held_out=ordered[mask].reset_index(drop=True),
    )
