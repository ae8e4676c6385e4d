"""Protocol ``newviewer``: the page's own users - a few ticks and one sentence of taste.

User-disjoint: with a fixed seed, 20 % of the users are held out for test and 10 % for
validation (the split's digest is recorded); models train on the other users only. Each
held-out user becomes a :class:`~cinerec.ranking.viewers.SimulatedViewer`: a statement
subset of their ratings (never a target) that a taste statement in English and in Korean is
written from, ``k`` ticks for ``k`` in 1, 3, 5, 10 drawn as people remember movies (by
popularity among the user's rated movies) and, as a second condition, uniformly, and the
targets: their remaining movies rated 4.0 or higher. Ticks carry no rating, as on the page.

Test sets are named ``k=<k>/<draw>/<language>``; each case carries its statement in
:attr:`~cinerec.evaluation.protocols.EvalCase.features` (``statement``, ``language``,
``draw``, ``k``), so feature-aware models read it and every other model sees the ticks
only. The validation part of the task is ``k=3/popular/en`` on the validation users;
:func:`viewer_cases` builds any other set from :attr:`NewViewerData.validation`.

Example:
    >>> data = newviewer_data(frame, catalog, dataset="ml-latest-small")  # doctest: +SKIP
    >>> task = newviewer_task(data)  # doctest: +SKIP
    >>> sorted(task.test_sets)[:2]  # doctest: +SKIP
    ['k=1/popular/en', 'k=1/popular/ko']
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cinerec.data.fingerprint import fingerprint_interactions
from cinerec.data.types import Interactions, Movie, Rated, Vocabulary
from cinerec.evaluation.protocols import EvalCase, EvaluationTask
from cinerec.ranking.statements import LANGUAGES
from cinerec.ranking.viewers import (
    DRAWS,
    SimulatedViewer,
    simulate_viewer,
    statement_context,
)

NEWVIEWER_KS = (1, 3, 5, 10)
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class NewViewerData:
    """The user-disjoint split and the simulated held-out viewers."""

    dataset: str
    train: pd.DataFrame
    test: tuple[SimulatedViewer, ...]
    validation: tuple[SimulatedViewer, ...]
    split_digest: str
    skipped: int
    """Held-out users with too few ratings to simulate."""
    seed: int
    all_frame: pd.DataFrame


def user_split(
    users: Sequence[int], *, seed: int, test_fraction: float, validation_fraction: float
) -> tuple[list[int], list[int], list[int], str]:
    """(train, validation, test) user ids by a seeded permutation, and the split's digest."""
    ordered = np.array(sorted(int(u) for u in users), dtype=np.int64)
    perm = np.random.default_rng(seed).permutation(len(ordered))
    n_test = round(test_fraction * len(ordered))
    n_val = round(validation_fraction * len(ordered))
    test = sorted(ordered[perm[:n_test]].tolist())
    val = sorted(ordered[perm[n_test : n_test + n_val]].tolist())
    train = sorted(ordered[perm[n_test + n_val :]].tolist())
    digest = hashlib.sha256(
        ("test:" + ",".join(map(str, test)) + ";validation:" + ",".join(map(str, val))).encode()
    ).hexdigest()
    return train, val, test, digest


def newviewer_data(
    frame: pd.DataFrame,
    catalog: Sequence[Movie],
    *,
    dataset: str,
    seed: int = 0,
    test_fraction: float = TEST_FRACTION,
    validation_fraction: float = VALIDATION_FRACTION,
) -> NewViewerData:
    """Split ``frame`` (``user_id, item_id, rating, timestamp``) by user and simulate the
    held-out viewers; tick popularity counts the training users' ratings."""
    train_users, val_users, test_users, digest = user_split(
        frame["user_id"].unique(),
        seed=seed,
        test_fraction=test_fraction,
        validation_fraction=validation_fraction,
    )
    train = frame[frame["user_id"].isin(train_users)]
    popularity = {int(i): float(c) for i, c in train["item_id"].value_counts().items()}
    context = statement_context(catalog)
    by_user = {
        int(u): list(zip(g["item_id"].tolist(), g["rating"].tolist(), strict=True))
        for u, g in frame[~frame["user_id"].isin(train_users)].groupby("user_id", sort=True)
    }
    skipped = 0

    def simulate(users: list[int]) -> tuple[SimulatedViewer, ...]:
        nonlocal skipped
        out = []
        for u in users:
            viewer = simulate_viewer(
                u, by_user.get(u, []), context=context, popularity=popularity, seed=seed
            )
            if viewer is None:
                skipped += 1
            else:
                out.append(viewer)
        return tuple(out)

    test, val = simulate(test_users), simulate(val_users)
    return NewViewerData(dataset, train, test, val, digest, skipped, seed, frame)


def viewer_cases(
    viewers: Sequence[SimulatedViewer], *, k: int, draw: str, language: str
) -> tuple[EvalCase, ...]:
    """One case per viewer: their first ``k`` ticks of ``draw`` (unrated) and the statement in
    ``language`` as features."""
    return tuple(
        EvalCase(
            v.user_id,
            tuple(Rated(i) for i in v.ticks[draw][:k]),
            v.targets,
            {"statement": v.statements[language], "language": language, "draw": draw, "k": k},
        )
        for v in viewers
    )


def set_name(k: int, draw: str, language: str) -> str:
    """``k=3/popular/en``."""
    return f"k={k}/{draw}/{language}"


def newviewer_task(data: NewViewerData, *, ks: Sequence[int] = NEWVIEWER_KS) -> EvaluationTask:
    """The harness task of :func:`newviewer_data`'s split (see the module docstring)."""
    test_sets = {
        set_name(k, d, lang): viewer_cases(data.test, k=k, draw=d, language=lang)
        for k in ks
        for d in DRAWS
        for lang in LANGUAGES
    }
    return EvaluationTask(
        protocol="newviewer",
        dataset=data.dataset,
        train=Interactions(data.train),
        validation=viewer_cases(data.validation, k=3, draw="popular", language="en"),
        test_sets=test_sets,
        catalog=Vocabulary(sorted(data.all_frame["item_id"].unique())),
        settings={
            "ks": list(ks),
            "draws": list(DRAWS),
            "languages": list(LANGUAGES),
            "test_fraction": TEST_FRACTION,
            "validation_fraction": VALIDATION_FRACTION,
            "seed": data.seed,
            "split_digest": data.split_digest,
            "test_users": len(data.test),
            "validation_users": len(data.validation),
            "skipped_users": data.skipped,
            "targets": "remaining movies rated >= 4.0",
            "statements_digest": statements_digest(data),
        },
        fingerprint=fingerprint_interactions(Interactions(data.all_frame)),
    )


def statements_digest(data: NewViewerData) -> str:
    """sha256 over every held-out viewer's statements, to tie results to the statements file."""
    h = hashlib.sha256()
    for v in (*data.validation, *data.test):
        for lang in LANGUAGES:
            h.update(f"{v.user_id}\t{lang}\t{v.statements[lang]}\n".encode())
    return h.hexdigest()
