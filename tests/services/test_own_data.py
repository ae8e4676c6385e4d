"""Training and evaluating on the user's own interaction file, through the command line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from cinerec.cli.main import app
from cinerec.config import Settings
from cinerec.data.interactions_file import load_interactions_file
from cinerec.recommenders.artifacts import load_artifact, train_artifact
from cinerec.services.own_data import artifact_name, train_on_file
from cinerec.services.platform import Platform

runner = CliRunner()


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its content."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _lines_file(path: Path, users: int = 30, items: int = 20, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rows = [
        f"{u} {i}"
        for u in range(1, users + 1)
        for i in rng.choice(np.arange(1, items + 1), 8, replace=False)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def _home_with_a_served_model(tmp_path: Path, data_dir: Path) -> tuple[Path, Settings]:
    """A home whose database exists and whose page artifact (popularity) is trained."""
    home = tmp_path / "home"
    settings = Settings(home=home, data_dir=data_dir, llm_backend="none", recommender="popularity")
    platform = Platform(settings)
    platform.migrate()
    csv = tmp_path / "page.csv"
    csv.write_text("user_id,item_id,rating,timestamp\n1,1,4,1\n1,260,5,2\n2,1,3,3\n")
    train_artifact("popularity", load_interactions_file(csv), platform.artifact_dir())
    platform.engine.dispose()
    return home, settings


def test_train_on_file_stores_its_own_artifact_and_leaves_the_page_alone(
    tmp_path: Path, real_data_dir: Path
) -> None:
    home, settings = _home_with_a_served_model(tmp_path, real_data_dir)
    page_before = _snapshot(home / "artifacts" / "popularity")
    mine = tmp_path / "my ratings.csv"
    mine.write_text("user,movie\nann,1\nann,260\nbob,1\nbob,99999999\n")
    cli = ["train", "--home", str(home), "--data-dir", str(real_data_dir), "--model", "popularity"]
    result = runner.invoke(
        app, [*cli, "--interactions", str(mine), "--user-col", "user", "--item-col", "movie"]
    )
    assert result.exit_code == 0, result.output
    assert "4 interactions of 2 users and 3 items (2 of them catalog movies)" in result.output
    assert _snapshot(home / "artifacts" / "popularity") == page_before
    (stored,) = [p for p in (home / "artifacts").iterdir() if p.name.startswith("popularity@")]
    assert stored.name.startswith("popularity@my_ratings-")
    model, info = load_artifact(stored)
    assert info.extra["source_file"] == "my ratings.csv"
    assert [r.movie_id for r in model.recommend([], n=3)] == [1, 260, 99999999]


def test_a_malformed_file_names_the_line_and_changes_nothing(
    tmp_path: Path, real_data_dir: Path
) -> None:
    home, _ = _home_with_a_served_model(tmp_path, real_data_dir)
    before = _snapshot(home)
    bad = tmp_path / "bad.tsv"
    bad.write_text("user_id\titem_id\trating\n1\t1\t4\n1\t2\tfive\n")
    cli = ["train", "--home", str(home), "--data-dir", str(real_data_dir)]
    result = runner.invoke(app, [*cli, "--interactions", str(bad)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.startswith("error: ") and "line 3: the rating 'five' is not a number" in message
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert _snapshot(home) == before


def test_train_on_file_without_catalog_data_says_unknown(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", data_dir=tmp_path / "none", llm_backend="none")
    path = _lines_file(tmp_path / "seq.txt")
    report = train_on_file(Platform(settings), path, name="popularity", progress=False)
    assert report.catalog_items is None and report.users == 30 and report.interactions == 240
    assert report.directory.name == artifact_name("popularity", path, report.info.data_fingerprint)
    assert report.directory.name.startswith("popularity@seq-")


def test_evaluate_on_own_file(tmp_path: Path) -> None:
    data = _lines_file(tmp_path / "seq.txt")
    out = tmp_path / "run"
    args = [
        "evaluate",
        "--interactions",
        str(data),
        "--models",
        "popularity,ease",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    stored = json.loads((out / "result.json").read_text())
    assert stored["dataset"] == "seq.txt" and stored["data"]["test_cases"]["test"] == 30
    assert set(stored["models"]) == {"popularity", "ease"}
    bad = runner.invoke(app, [*args, "--protocol", "ml100k"])
    assert bad.exit_code == 2 and "--interactions runs the leave-one-out protocol" in bad.output
