"""The train -> select -> label -> import -> retrain -> audit loop on a synthetic IMDB archive."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cinerec.errors import ValidationError
from cinerec.reviews.aspects.classifier import AspectClassifier
from cinerec.reviews.sentiment import TfidfSentimentModel
from cinerec.reviews.workflow import (
    ReviewPaths,
    audit_task,
    import_labels,
    load_corpus,
    select_candidates,
    train_task,
)


def test_corpus_has_a_movie_held_out_validation_split(imdb_dir: Path) -> None:
    frame = load_corpus("imdb", imdb_dir)
    assert set(frame["split"]) == {"train", "validation", "test"}
    assert len(frame) == 120
    limited = load_corpus("imdb", imdb_dir, limit=10)
    assert (limited["split"] == "train").sum() == 10


def test_sentiment_loop(imdb_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    report = train_task("imdb", data_dir=imdb_dir, home=home)
    assert report.scores["test_accuracy"]["mean"] > 0.9  # the toy task is easy
    model = TfidfSentimentModel.load(ReviewPaths(home).model("imdb"))
    assert model.metadata["task"] == "imdb"

    out = tmp_path / "pick.csv"
    cands = select_candidates("imdb", data_dir=imdb_dir, home=home, n=4, out=out)
    assert len(cands) == 4 and all(0 <= c.uncertainty <= 1 for c in cands)
    scores = [0.7 * c.uncertainty + 0.3 * c.rarity for c in cands]
    assert scores == sorted(scores, reverse=True)

    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["label"] = row["suggested"]
    rows[0]["label"] = str(1 - int(rows[0]["suggested"]))  # a deliberate wrong label
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert import_labels("imdb", path=out, home=home) == 4
    again = select_candidates("imdb", data_dir=imdb_dir, home=home, n=4, out=out)
    assert not {c.id for c in again} & {c.id for c in cands}  # labelled ones are skipped
    retrained = train_task("imdb", data_dir=imdb_dir, home=home)
    assert retrained.n_human == 4
    report = audit_task("imdb", home=home, folds=2, threshold=0.5)
    assert report.n == 4


def test_aspect_loop_uses_weak_labels_and_human_overrides(imdb_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    report = train_task("aspects", data_dir=imdb_dir, home=home)
    assert report.scores["label_share"]["story"] > 0  # "story" is a filler word and a cue
    out = tmp_path / "pick.jsonl"
    cands = select_candidates("aspects", data_dir=imdb_dir, home=home, n=3, out=out)
    lines = out.read_text(encoding="utf-8").splitlines()
    lines = [ln.replace('"label": ""', '"label": "music;acting"') for ln in lines]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_labels("aspects", path=out, home=home) == len(cands) == 3
    train_task("aspects", data_dir=imdb_dir, home=home)
    model = AspectClassifier.load(ReviewPaths(home).model("aspects"))
    assert model.aspects[:2] == ("story", "acting")
    with pytest.raises(ValidationError, match="single-label"):
        audit_task("aspects", home=home)


def test_unknown_task(imdb_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="imdb, nsmc, aspects"):
        train_task("yelp", data_dir=imdb_dir, home=tmp_path)
