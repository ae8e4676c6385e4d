"""Trained recommenders on disk: the model's own files plus ``meta.json`` saying what made it.

An artifact directory holds what ``model.save`` writes and a ``meta.json`` with the registry
name, the config, the fingerprint of the training data, the cinerec version, when it was
trained and how long that took. ``meta.json`` is written last, and the whole directory is
swapped in with a rename, so a crash mid-save never leaves a half-written artifact behind.

Example:
    >>> model, info = train_artifact("als", interactions, tmp / "als")  # doctest: +SKIP
    >>> same, info2 = load_artifact(tmp / "als")  # doctest: +SKIP
    >>> info2.version == info.version  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cinerec
from cinerec.data.fingerprint import fingerprint_interactions
from cinerec.data.types import Interactions
from cinerec.errors import CinerecError, ModelError
from cinerec.recommenders.base import Recommender, TextSource, TrainingOptions, give_texts
from cinerec.recommenders.registry import RECOMMENDERS, build, make_config

META_FILE = "meta.json"
_HINT = "run `cinerec train` to build it"


@dataclass(frozen=True)
class ArtifactInfo:
    """What ``meta.json`` records about one trained recommender."""

    name: str
    config: dict[str, Any]
    data_fingerprint: str
    cinerec_version: str
    trained_at: str
    train_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Short stable id of (name, config, data), e.g. ``als-3f2a9c1d0b7e``.

        Retraining the same config on the same data gives the same version, so it names
        the model in recommendation runs.
        """
        key = json.dumps(
            {"name": self.name, "config": self.config, "data": self.data_fingerprint},
            sort_keys=True,
        )
        return f"{self.name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def to_json(self) -> dict[str, Any]:
        """The ``meta.json`` content (includes ``version`` for people reading the file)."""
        return {**asdict(self), "version": self.version}


def _config_dict(config: object) -> dict[str, Any]:
    if is_dataclass(config) and not isinstance(config, type):
        return asdict(config)
    if isinstance(config, Mapping):
        return dict(config)
    raise ModelError(f"Artifact config must be a config dataclass or a dict, not {config!r}")


def save_artifact(
    model: Recommender,
    directory: Path,
    *,
    config: object,
    data_fingerprint: str,
    train_seconds: float | None = None,
    extra: dict[str, Any] | None = None,
) -> ArtifactInfo:
    """Write ``model`` and its ``meta.json`` into ``directory`` (replacing what was there).

    Args:
        model: a trained recommender registered in :data:`RECOMMENDERS`.
        directory: the artifact directory; created, or replaced as a whole.
        config: the model's config (dataclass or dict), stored as a dict.
        data_fingerprint: e.g. :func:`cinerec.data.fingerprint.fingerprint_interactions`.
        train_seconds: how long ``fit`` took, if measured.
        extra: anything else JSON-serialisable worth keeping (evaluation numbers, notes).

    Returns:
        The :class:`ArtifactInfo` written.
    """
    if model.name not in RECOMMENDERS:
        raise ModelError(f"Cannot save unregistered recommender {model.name!r}")
    info = ArtifactInfo(
        name=model.name,
        config=_config_dict(config),
        data_fingerprint=data_fingerprint,
        cinerec_version=cinerec.__version__,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        train_seconds=None if train_seconds is None else round(float(train_seconds), 3),
        extra=dict(extra or {}),
    )
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
    old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save(staging)
        meta = json.dumps(info.to_json(), indent=2, sort_keys=True)
        (staging / META_FILE).write_text(meta, encoding="utf-8")
        if directory.exists():
            directory.rename(old)
        staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return info


def _read_info(directory: Path) -> ArtifactInfo:
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise ModelError(f"No trained model at {directory}; {_HINT}")
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
        raw.pop("version", None)
        return ArtifactInfo(**raw)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ModelError(f"{meta_path} is corrupt ({exc}); {_HINT} again") from exc


def load_artifact(directory: Path) -> tuple[Recommender, ArtifactInfo]:
    """Load the recommender saved in ``directory`` and its :class:`ArtifactInfo`.

    Raises:
        ModelError: no artifact, a corrupt one, or one naming an unknown recommender; the
            message says to run ``cinerec train``.
    """
    directory = Path(directory)
    info = _read_info(directory)
    if info.name not in RECOMMENDERS:
        valid = ", ".join(sorted(RECOMMENDERS))
        raise ModelError(
            f"{directory} holds an unknown recommender {info.name!r} (known: {valid}); {_HINT}"
        )
    _, model_cls = RECOMMENDERS[info.name]
    try:
        model: Recommender = model_cls.load(directory)
        expected = _config_dict(make_config(info.name, info.config))
    except CinerecError as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"The artifact at {directory} is unusable ({exc}); {_HINT}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"The artifact at {directory} is corrupt ({exc}); {_HINT}") from exc
    if _config_dict(model.config) != expected:
        raise ModelError(f"{directory}: meta.json and the model disagree on the config; {_HINT}")
    return model, info


def train_artifact(
    name: str,
    interactions: Interactions,
    directory: Path,
    *,
    config: object | Mapping[str, Any] | None = None,
    options: TrainingOptions | None = None,
    extra: dict[str, Any] | None = None,
    item_texts: TextSource | None = None,
) -> tuple[Recommender, ArtifactInfo]:
    """Build recommender ``name``, fit it on ``interactions`` and save it as an artifact.

    ``item_texts`` gives the movies' descriptions to a model that needs them (called only
    then). The data fingerprint and the training time are recorded in ``meta.json``.
    """
    model = build(name, config)
    give_texts(model, item_texts)
    started = time.perf_counter()
    model.fit(interactions, options or TrainingOptions())
    seconds = time.perf_counter() - started
    info = save_artifact(
        model,
        directory,
        config=model.config,
        data_fingerprint=fingerprint_interactions(interactions),
        train_seconds=seconds,
        extra=extra,
    )
    return model, info
