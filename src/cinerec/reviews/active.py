"""Active learning: pick reviews worth labelling, move them out and back in, audit labels.

* Uncertainty: ``(1 - max p) * K / (K - 1)`` for a K-class sentiment model (0 sure, 1 flat);
  ``1 - 2 |p - 0.5|`` per aspect for a sigmoid aspect model, the most uncertain aspect counts.
* Rarity: ``1 - share`` of the predicted class (or of the predicted aspects, averaged) among
  reference labels, so reviews of under-represented classes rank higher.
* Selection: the top ``n`` by ``(1 - w) * uncertainty + w * rarity``, ties broken by id.
* Exchange: CSV or JSONL (by file suffix) with ``id, text, suggested, label`` and the scores;
  annotators fill ``label``; :func:`read_labels` takes them back.
* Audit: :func:`audit_labels` flags labels a cross-validated model finds very unlikely and
  identical texts carrying different labels.

Example:
    >>> sentiment_uncertainty(np.array([[0.5, 0.5], [1.0, 0.0]])).tolist()
    [1.0, 0.0]
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from cinerec.errors import ValidationError

EXCHANGE_COLUMNS = ["id", "text", "suggested", "p", "uncertainty", "rarity", "label"]
ASPECT_SEPARATOR = ";"


def sentiment_uncertainty(proba: np.ndarray) -> np.ndarray:
    """``(1 - max p) * K / (K - 1)`` per row of a ``(n, K)`` probability matrix, in [0, 1]."""
    proba = np.asarray(proba, dtype=float)
    k = proba.shape[1]
    if k < 2:
        raise ValueError("Uncertainty needs at least two classes")
    return (1.0 - proba.max(axis=1)) * k / (k - 1)


def aspect_uncertainty(proba: np.ndarray) -> np.ndarray:
    """Per row, the largest ``1 - 2 |p - 0.5|`` over aspects: 1 when some sigmoid sits at 0.5."""
    return (1.0 - 2.0 * np.abs(np.asarray(proba, dtype=float) - 0.5)).max(axis=1)


def class_rarity(predicted: Sequence[object], reference: Sequence[object]) -> np.ndarray:
    """``1 - share`` of each predicted class among ``reference`` labels (unseen classes: 1)."""
    counts = Counter(reference)
    total = max(sum(counts.values()), 1)
    return np.array([1.0 - counts.get(p, 0) / total for p in predicted])


def aspect_rarity(predicted: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mean ``1 - share`` of each row's predicted aspects, shares from a reference 0/1 matrix.

    Rows predicting no aspect get the rarity of "no aspect" among the reference rows.
    """
    predicted = np.asarray(predicted, dtype=bool)
    reference = np.asarray(reference, dtype=bool)
    n = max(len(reference), 1)
    share = reference.sum(axis=0) / n
    none_share = float((reference.sum(axis=1) == 0).sum()) / n
    out = np.empty(len(predicted))
    for i, row in enumerate(predicted):
        out[i] = 1.0 - share[row].mean() if row.any() else 1.0 - none_share
    return out


def select(
    ids: Sequence[str],
    uncertainty: np.ndarray,
    rarity: np.ndarray,
    n: int,
    *,
    rarity_weight: float = 0.3,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[int]:
    """Indices of the ``n`` best candidates by ``(1 - w) * uncertainty + w * rarity``.

    Args:
        ids: candidate ids (ties are broken by id, so the choice is deterministic).
        exclude: ids already labelled, never chosen.
    """
    if not 0.0 <= rarity_weight <= 1.0:
        raise ValidationError(f"rarity_weight must lie in [0, 1], got {rarity_weight}.")
    score = (1 - rarity_weight) * np.asarray(uncertainty) + rarity_weight * np.asarray(rarity)
    order = sorted(
        (i for i in range(len(ids)) if ids[i] not in exclude), key=lambda i: (-score[i], ids[i])
    )
    return order[: max(n, 0)]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A review proposed for labelling (``label`` empty until an annotator fills it)."""

    id: str
    text: str
    suggested: str
    p: float
    uncertainty: float
    rarity: float
    label: str = ""


def export_candidates(candidates: Sequence[Candidate], path: Path) -> Path:
    """Write candidates as ``.csv`` or ``.jsonl`` (by suffix), one per row, label left blank."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [asdict(c) for c in candidates]
    if path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=EXCHANGE_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    else:
        raise ValidationError(f"Export to {path.name}: use a .csv or .jsonl file name.")
    return path


@dataclass(frozen=True, slots=True)
class LabelledText:
    """An annotator's label for a text (for aspects: ``;``-separated aspect names)."""

    id: str
    text: str
    label: str


def _rows(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise ValidationError(f"No label file at {path}; pass the file you exported and filled.")
    if path.suffix == ".jsonl":
        out = []
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValidationError(f"{path} line {line_no} is not JSON ({exc}).") from exc
        return out
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    raise ValidationError(f"Import from {path.name}: use a .csv or .jsonl file.")


def read_labels(path: Path, *, allowed: Sequence[str], multi: bool = False) -> list[LabelledText]:
    """Labelled rows of an exchange file; rows with a blank label are skipped.

    Args:
        allowed: the valid labels (for ``multi``, the valid aspect names).
        multi: labels are ``;``-separated sets (aspects); ``none`` means no aspect.

    Raises:
        ValidationError: a row lacks ``id``/``text`` or carries a label not in ``allowed``.
    """
    out = []
    valid = {str(a) for a in allowed}
    for i, row in enumerate(_rows(Path(path)), 1):
        label = str(row.get("label") or "").strip()
        if not label:
            continue
        if not row.get("id") or row.get("text") is None:
            raise ValidationError(f"{path} row {i} lacks an id or text; keep the exported columns.")
        parts = [p.strip() for p in label.split(ASPECT_SEPARATOR)] if multi else [label]
        parts = [p for p in parts if p and p != "none"] if multi else parts
        bad = [p for p in parts if p not in valid]
        if bad:
            raise ValidationError(
                f"{path} row {i} has label(s) {bad}; use one of {sorted(valid)}"
                + (" separated by ';', or 'none'." if multi else ".")
            )
        canonical = ASPECT_SEPARATOR.join(sorted(parts)) if multi else label
        out.append(LabelledText(str(row["id"]), str(row["text"]), canonical))
    return out


def merge_labels(old: Sequence[LabelledText], new: Sequence[LabelledText]) -> list[LabelledText]:
    """Union of two label sets by id; a new label for an id replaces the old one."""
    merged = {r.id: r for r in old}
    merged.update({r.id: r for r in new})
    return list(merged.values())


def save_label_store(path: Path, labels: Sequence[LabelledText]) -> Path:
    """Write labels as JSONL (the store ``cinerec reviews import`` keeps under home)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in labels:
            fh.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    return path


def load_label_store(path: Path) -> list[LabelledText]:
    """Labels saved by :func:`save_label_store` (none when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return []
    return [LabelledText(**json.loads(line)) for line in path.read_text("utf-8").splitlines()]


@dataclass(frozen=True)
class AuditReport:
    """Labels worth a second look: unlikely under a cross-validated model, or in conflict."""

    suspects: list[tuple[str, str, float]] = field(default_factory=list)
    """``(id, label, p(label))`` sorted by ``p`` ascending."""
    conflicts: list[tuple[str, ...]] = field(default_factory=list)
    """Groups of ids whose (normalised) texts are identical but whose labels differ."""
    n: int = 0


FitPredict = Callable[[list[str], list[str], list[str]], np.ndarray]
"""``(train_texts, train_labels, test_texts) -> (len(test), n_classes)`` with sorted classes."""


def audit_labels(
    records: Sequence[LabelledText],
    fit_predict: FitPredict,
    *,
    folds: int = 5,
    threshold: float = 0.1,
    seed: int = 0,
) -> AuditReport:
    """Cross-validated label audit.

    Each record is scored by a model trained on the other folds; a label whose probability is
    below ``threshold`` is a suspect.  Classes are the sorted distinct labels.
    """
    texts = [r.text for r in records]
    labels = [r.label for r in records]
    classes = sorted(set(labels))
    groups: dict[str, set[str]] = {}
    ids: dict[str, list[str]] = {}
    for r in records:
        key = " ".join(r.text.lower().split())
        groups.setdefault(key, set()).add(r.label)
        ids.setdefault(key, []).append(r.id)
    conflicts = [tuple(ids[k]) for k, labs in groups.items() if len(labs) > 1]
    suspects: list[tuple[str, str, float]] = []
    if len(classes) >= 2 and len(records) >= folds >= 2:
        fold = np.random.default_rng(seed).permutation(len(records)) % folds
        p_label = np.ones(len(records))
        for f in range(folds):
            train = np.flatnonzero(fold != f)
            test = np.flatnonzero(fold == f)
            train_labels = [labels[i] for i in train]
            if len(set(train_labels)) < len(classes):
                continue  # a class missing from this fold's training part: no fair score
            proba = fit_predict([texts[i] for i in train], train_labels, [texts[i] for i in test])
            for row, i in enumerate(test):
                p_label[i] = proba[row, classes.index(labels[i])]
        suspects = sorted(
            (
                (records[i].id, labels[i], float(p_label[i]))
                for i in map(int, np.flatnonzero(p_label < threshold))
            ),
            key=lambda s: (s[2], s[0]),
        )
    return AuditReport(suspects=suspects, conflicts=conflicts, n=len(records))
