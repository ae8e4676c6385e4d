"""Training the page's recommender on an interaction file of the user's own.

``cinerec train --interactions FILE`` reads the file (:mod:`cinerec.data.interactions_file`),
trains the configured (or named) recommender on it and stores the artifact under a name of its
own, ``<model>@<file stem>-<data fingerprint>``, next to the page's artifacts. The page keeps
serving the artifact it was serving (``artifacts/<model>``, trained on the catalog's ratings):
a file's item ids are the page's movie ids only when they come from the same MovieLens
catalog, which the report counts (:attr:`FileTrainReport.catalog_items`).

A malformed file fails before anything is written; a failed training leaves no artifact
(artifacts are written to a staging directory and renamed into place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cinerec.data.fingerprint import fingerprint_interactions
from cinerec.data.interactions_file import ColumnMap, load_interactions_file
from cinerec.data.movielens import load_movielens_movies
from cinerec.errors import DataError
from cinerec.recommenders.artifacts import ArtifactInfo, train_artifact
from cinerec.recommenders.base import TrainingOptions
from cinerec.services.ingest import data_dir_for
from cinerec.services.platform import Platform


@dataclass(frozen=True, slots=True)
class FileTrainReport:
    """What training on a file did.

    Attributes:
        info: the stored artifact's metadata.
        directory: where the artifact is.
        interactions: rows read from the file.
        users: distinct users in the file.
        items: distinct items in the file.
        catalog_items: how many of those items are movie ids of the page's catalog (None when
            the catalog's data files are not found).
    """

    info: ArtifactInfo
    directory: Path
    interactions: int
    users: int
    items: int
    catalog_items: int | None


def artifact_name(model: str, path: Path, fingerprint: str) -> str:
    """``<model>@<file stem>-<first 12 hex of the fingerprint>``, safe as a directory name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._") or "file"
    return f"{model}@{stem}-{fingerprint[:12]}"


def _catalog_items(platform: Platform, item_ids: set[int]) -> int | None:
    try:
        movies = load_movielens_movies(data_dir_for(platform), platform.settings.dataset)
    except DataError:
        return None
    return len(item_ids & set(movies["movie_id"].astype(int).tolist()))


def train_on_file(
    platform: Platform,
    path: Path,
    *,
    name: str | None = None,
    file_format: str | None = None,
    columns: ColumnMap | None = None,
    progress: bool = True,
    threads: int = 2,
) -> FileTrainReport:
    """Train recommender ``name`` (default: the configured one) on the interactions in
    ``path`` and store it as its own artifact; the page's artifacts are left as they are.

    Raises:
        DataError: the file is missing or malformed (nothing is written).
        ConfigError: unknown recommender.
        ModelError: training failed (nothing is written).
    """
    interactions = load_interactions_file(path, file_format=file_format, columns=columns)
    name = name or platform.settings.recommender
    fingerprint = fingerprint_interactions(interactions)
    directory = platform.artifact_dir(artifact_name(name, Path(path), fingerprint))
    item_ids = set(interactions.items.ids.tolist())
    _, info = train_artifact(
        name,
        interactions,
        directory,
        options=TrainingOptions(seed=platform.settings.seed, threads=threads, progress=progress),
        extra={"source_file": Path(path).name},
    )
    return FileTrainReport(
        info=info,
        directory=directory,
        interactions=len(interactions),
        users=len(interactions.users),
        items=len(item_ids),
        catalog_items=_catalog_items(platform, item_ids),
    )
