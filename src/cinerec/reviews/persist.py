"""Saving text models: one joblib file holding the model, its config and a data fingerprint.

A loaded artifact is checked for its kind and for the scikit-learn version it was saved with,
so an old or foreign file fails with a clear message instead of deep inside a prediction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

from cinerec.errors import ModelError

FORMAT = "cinerec-text-v1"
C = TypeVar("C")


def fingerprint_labelled_texts(texts: Iterable[str], labels: Iterable[object]) -> str:
    """sha256 (hex) over ``(text, label)`` pairs in order: which data a model was trained on."""
    digest = hashlib.sha256(b"cinerec-labelled-texts-v1\n")
    count = 0
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
        count += 1
    digest.update(count.to_bytes(8, "little"))
    return digest.hexdigest()


def check_labels(n_texts: int, labels: object, *, classes: bool = True) -> np.ndarray:
    """``labels`` as an array, after the checks every text model's ``fit`` needs.

    Raises:
        ModelError: no texts or not one label (row) per text; with ``classes``, fewer than two
            distinct labels.
    """
    y = np.asarray(labels)
    if n_texts == 0 or n_texts != len(y):
        raise ModelError(f"Need as many labels as texts (got {n_texts} and {len(y)}).")
    if classes and len(np.unique(y)) < 2:
        raise ModelError("Training needs at least two classes; add examples of another.")
    return y


def save_artifact(path: Path, *, kind: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (model objects, config dict, fingerprint ...) under ``path``."""
    import joblib
    import sklearn

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, "kind": kind, "sklearn": sklearn.__version__, **payload}
    joblib.dump(record, path, compress=3)
    return path


def load_artifact(path: Path, *, kind: str) -> dict[str, Any]:
    """Read an artifact written by :func:`save_artifact` and check its kind.

    Raises:
        ModelError: the file is missing, unreadable, of another kind or from another sklearn.
    """
    import joblib
    import sklearn

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"No model file at {path}; train one with `cinerec reviews train`.")
    try:
        record = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types for a bad file
        raise ModelError(f"Model file {path} cannot be read ({exc}); retrain it.") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelError(f"{path} is not a cinerec text model; retrain it.")
    if record.get("kind") != kind:
        raise ModelError(f"{path} holds a {record.get('kind')!r} model, not {kind!r}.")
    if record.get("sklearn") != sklearn.__version__:
        raise ModelError(
            f"{path} was saved with scikit-learn {record.get('sklearn')}, this is "
            f"{sklearn.__version__}; retrain it."
        )
    return record


def save_model(
    path: Path,
    *,
    kind: str,
    config: Any,
    fingerprint: str | None,
    metadata: dict[str, Any] | None = None,
    **state: Any,
) -> Path:
    """Write a model: its config (a dataclass), data fingerprint, ``metadata`` and ``state``
    (the fitted objects, by name)."""
    payload = {"config": asdict(config), "fingerprint": fingerprint, "metadata": metadata or {}}
    return save_artifact(path, kind=kind, payload={**payload, **state})


def load_model(path: Path, *, kind: str, config_class: type[C]) -> tuple[C, dict[str, Any]]:
    """Read a model written by :func:`save_model`: its config (lists back to tuples) and the
    whole record (``record["fingerprint"]``, ``record["metadata"]``, the state by name)."""
    record = load_artifact(path, kind=kind)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in record["config"].items()}
    return config_class(**values), record


class SavedTextModel:
    """:meth:`save` and :meth:`load` of a text model whose fitted state is a few attributes.

    A subclass names its artifact kind (``artifact_kind``), its config dataclass
    (``config_class``) and the attributes that hold its fitted state (``state_names``); its
    ``__init__`` takes the config first and sets ``config``, ``fingerprint`` and ``metadata``.
    :meth:`_check_fitted` (default: nothing to check) guards :meth:`save`.
    """

    artifact_kind: ClassVar[str]
    config_class: ClassVar[type[Any]]
    state_names: ClassVar[tuple[str, ...]]
    config: Any
    fingerprint: str | None
    metadata: dict[str, Any]

    def _check_fitted(self) -> None:
        """Raise :class:`ModelError` when there is nothing to save or predict with."""

    def save(self, path: Path, *, metadata: dict[str, Any] | None = None) -> Path:
        """Write the model with its config, data fingerprint and ``metadata`` (e.g. scores)."""
        self._check_fitted()
        state = {name: getattr(self, name) for name in self.state_names}
        return save_model(
            path,
            kind=self.artifact_kind,
            config=self.config,
            fingerprint=self.fingerprint,
            metadata=metadata,
            **state,
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`."""
        config, record = load_model(path, kind=cls.artifact_kind, config_class=cls.config_class)
        model = cls(config)  # type: ignore[call-arg]  # subclasses take the config first
        for name in cls.state_names:
            setattr(model, name, record[name])
        model.fingerprint = record["fingerprint"]
        model.metadata = record["metadata"]
        return model
