"""Helpers shared by the recommenders in this package: ranking, history handling, files.

Private to :mod:`cinerec.recommenders`; matrix indices never leave this package.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from cinerec.data.types import Rated, ScoredItem, Vocabulary
from cinerec.errors import ModelError

MODEL_NPZ = "model.npz"
MODEL_JSON = "model.json"
FORMAT_VERSION = 1


def require_torch(model: str) -> ModuleType:
    """PyTorch, or a :class:`ModelError` saying that ``model`` needs it and how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise ModelError(
            f"{model} needs PyTorch; install it with: pip install 'cinerec[sequential]'"
        ) from exc
    return torch


def check_n(n: int) -> None:
    """Reject a negative list length early, with a message that says what to pass."""
    if n < 0:
        raise ValueError(f"n must be zero or positive, got {n}")


def history_ratings(history: Sequence[Rated], items: Vocabulary) -> dict[int, float | None]:
    """Matrix index -> rating for the known items of a history; unknown ids are dropped.

    A movie listed twice keeps its last rating.
    """
    out: dict[int, float | None] = {}
    for rated in history:
        if rated.movie_id in items:
            out[items.index(rated.movie_id)] = rated.rating
    return out


def blocked_indices(
    history: Sequence[Rated], exclude: Collection[int], items: Vocabulary
) -> np.ndarray:
    """Matrix indices that must not be recommended: the history and the excluded ids."""
    ids = [r.movie_id for r in history]
    ids.extend(int(i) for i in exclude)
    return items.indices(ids)


def top_n(scores: np.ndarray, items: Vocabulary, n: int, blocked: np.ndarray) -> list[ScoredItem]:
    """The ``n`` best unblocked items, best first; ties broken by matrix index (stable)."""
    check_n(n)
    scores = np.asarray(scores, dtype=np.float64).copy()
    if len(blocked):
        scores[blocked] = -np.inf
    allowed = np.flatnonzero(np.isfinite(scores))
    n = min(n, len(allowed))
    if n == 0:
        return []
    candidates = allowed
    if n < len(allowed):
        # Partition, then widen to every item tied with the n-th score so ties stay stable.
        kth = np.partition(scores[allowed], len(allowed) - n)[len(allowed) - n]
        candidates = allowed[scores[allowed] >= kth]
    order = np.lexsort((candidates, -scores[candidates]))[:n]
    chosen = candidates[order]
    return [ScoredItem(items.id(int(i)), float(scores[i])) for i in chosen]


def write_model(path: Path, *, name: str, config: Mapping[str, Any], **arrays: np.ndarray) -> None:
    """Write ``model.npz`` (arrays) and ``model.json`` (name, config) into directory ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    np.savez(path / MODEL_NPZ, **arrays)  # type: ignore[arg-type]  # numpy stub quirk
    meta = {"name": name, "format_version": FORMAT_VERSION, "config": dict(config)}
    (path / MODEL_JSON).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")


def read_model(path: Path, *, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read what :func:`write_model` wrote; :class:`ModelError` if missing, corrupt or foreign."""
    hint = "run `cinerec train` to rebuild it"
    try:
        meta = json.loads((path / MODEL_JSON).read_text(encoding="utf-8"))
        with np.load(path / MODEL_NPZ, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError as exc:
        raise ModelError(f"No trained {name} model at {path} ({exc.filename}); {hint}") from exc
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"The {name} model at {path} is corrupt ({exc}); {hint}") from exc
    if not isinstance(meta, dict) or meta.get("name") != name:
        found = meta.get("name") if isinstance(meta, dict) else None
        raise ModelError(f"{path} holds a {found!r} model, not {name!r}; {hint}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"The {name} model at {path} has format {meta.get('format_version')!r}, "
            f"this cinerec reads {FORMAT_VERSION}; {hint}"
        )
    return meta.get("config") or {}, arrays
