from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.errors import ValidationError
from cinerec.reviews.active import (
    Candidate,
    LabelledText,
    aspect_rarity,
    aspect_uncertainty,
    audit_labels,
    class_rarity,
    export_candidates,
    load_label_store,
    merge_labels,
    read_labels,
    save_label_store,
    select,
    sentiment_uncertainty,
)


def test_uncertainty_scales() -> None:
    u = sentiment_uncertainty(np.array([[1 / 3] * 3, [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]))
    np.testing.assert_allclose(u, [1.0, 0.0, 0.75])
    a = aspect_uncertainty(np.array([[0.5, 0.99], [0.9, 0.1]]))
    np.testing.assert_allclose(a, [1.0, 0.2])


def test_rarity() -> None:
    np.testing.assert_allclose(class_rarity([1, 0, 2], [1, 1, 1, 0]), [0.25, 0.75, 1.0])
    ref = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])
    np.testing.assert_allclose(aspect_rarity(np.array([[0, 1], [0, 0]]), ref), [0.75, 0.75])


def test_select_mixes_scores_and_skips_labelled() -> None:
    ids = ["a", "b", "c", "d"]
    u = np.array([0.9, 0.8, 0.1, 0.9])
    r = np.array([0.0, 1.0, 0.0, 0.0])
    assert select(ids, u, r, 2, rarity_weight=0.0) == [0, 3]  # tie broken by id
    assert select(ids, u, r, 2, rarity_weight=0.5) == [1, 0]
    assert select(ids, u, r, 2, rarity_weight=0.5, exclude={"b"}) == [0, 3]
    with pytest.raises(ValidationError):
        select(ids, u, r, 1, rarity_weight=2.0)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_export_fill_import_roundtrip(tmp_path: Path, suffix: str) -> None:
    cands = [
        Candidate("r1", 'He said "wow", then left', "1", 0.55, 0.9, 0.2),
        Candidate("r2", "연기가 별로", "0", 0.6, 0.8, 0.1),
        Candidate("r3", "skip me", "1", 0.6, 0.8, 0.1),
    ]
    path = export_candidates(cands, tmp_path / f"sel{suffix}")
    lines = path.read_text(encoding="utf-8").splitlines()
    first = 1 if suffix == ".csv" else 0  # skip the CSV header
    for offset, label in enumerate(["1", "0"]):  # an annotator fills the first two rows
        i = first + offset
        if suffix == ".csv":
            assert lines[i].endswith(",")
            lines[i] += label
        else:
            lines[i] = lines[i].replace('"label": ""', f'"label": "{label}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = read_labels(path, allowed=["0", "1"])
    assert [(r.id, r.text, r.label) for r in got] == [
        ("r1", 'He said "wow", then left', "1"),
        ("r2", "연기가 별로", "0"),
    ]


def test_import_rejects_unknown_labels_and_reads_aspect_sets(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    path.write_text(
        '{"id": "1", "text": "t", "label": "music ; story"}\n{"id": "2", "text": "u", '
        '"label": "none"}\n',
        encoding="utf-8",
    )
    got = read_labels(path, allowed=["music", "story"], multi=True)
    assert [r.label for r in got] == ["music;story", ""]
    path.write_text('{"id": "1", "text": "t", "label": "sound"}\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="sound"):
        read_labels(path, allowed=["music"], multi=True)
    (tmp_path / "x.txt").write_text("id,text,label\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=".csv or .jsonl"):
        read_labels(tmp_path / "x.txt", allowed=["1"])


def test_store_merge_newer_wins(tmp_path: Path) -> None:
    old = [LabelledText("1", "a", "0"), LabelledText("2", "b", "1")]
    merged = merge_labels(old, [LabelledText("1", "a", "1")])
    path = save_label_store(tmp_path / "s.jsonl", merged)
    assert {r.id: r.label for r in load_label_store(path)} == {"1": "1", "2": "1"}
    assert load_label_store(tmp_path / "none.jsonl") == []


def test_audit_flags_flipped_labels_and_conflicts() -> None:
    records = [LabelledText(str(i), f"great fun {i}", "pos") for i in range(10)]
    records += [LabelledText(str(10 + i), f"awful bore {i}", "neg") for i in range(10)]
    records[3] = LabelledText("3", "great fun 3", "neg")  # a flipped label
    records.append(LabelledText("dup", "GREAT  fun 4", "neg"))  # conflicts with id 4

    def fit_predict(train: list[str], labels: list[str], test: list[str]) -> np.ndarray:
        # columns: neg, pos (sorted); a word vote stands in for a model
        return np.array([[0.05, 0.95] if "great" in t else [0.95, 0.05] for t in test])

    report = audit_labels(records, fit_predict, folds=4)
    assert report.suspects[0][:2] == ("3", "neg") and report.n == 21
    assert ("4", "dup") in report.conflicts
