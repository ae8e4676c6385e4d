from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from cinerec.text.cli import reviews_app


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(reviews_app, name="reviews")
    return app


def test_train_select_import_audit_commands(imdb_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["--data-dir", str(imdb_dir), "--home", str(tmp_path / "home")]
    result = runner.invoke(_app(), ["reviews", "train", "imdb", *common])
    assert result.exit_code == 0, result.output
    assert "test_accuracy" in result.output
    out = tmp_path / "pick.jsonl"
    result = runner.invoke(_app(), ["reviews", "select", "imdb", "3", "--out", str(out), *common])
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == 3
    out.write_text(out.read_text().replace('"label": ""', '"label": "1"'))
    result = runner.invoke(_app(), ["reviews", "import", "imdb", str(out), *common])
    assert result.exit_code == 0 and "Imported 3 labels" in result.output
    assert "Retrained imdb with 3 human labels" in result.output
    result = runner.invoke(_app(), ["reviews", "audit", "imdb", "--home", str(tmp_path / "home")])
    assert result.exit_code == 0 and "Audited 3 labels" in result.output


def test_errors_exit_2_with_a_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["reviews", "train", "yelp", "--data-dir", str(tmp_path), "--home", str(tmp_path)]
    )
    assert result.exit_code == 2 and "Unknown review task" in result.output
