"""The command line, on the prepared real catalog and on bad input."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cinerec.cli import app

runner = CliRunner()


def test_recommend_prints_catalog_movies_for_a_history(
    prepared_home: Path, real_data_dir: Path
) -> None:
    args = ["recommend", "--home", str(prepared_home), "--data-dir", str(real_data_dir)]
    result = runner.invoke(app, [*args, "--movies", "2571,541", "--taste", "no horror", "-n", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 5 and lines[0].lstrip().startswith("1. [")
    assert "Horror" not in result.output


def test_recommend_rejects_unknown_and_malformed_ids(
    prepared_home: Path, real_data_dir: Path
) -> None:
    args = ["recommend", "--home", str(prepared_home), "--data-dir", str(real_data_dir)]
    result = runner.invoke(app, [*args, "--movies", "99999999"])
    assert result.exit_code == 2 and "Unknown movie ids" in result.output
    result = runner.invoke(app, [*args, "--movies", "one,two"])
    assert result.exit_code == 2 and "comma-separated whole numbers" in result.output


def test_ingest_with_a_missing_data_dir_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", "--home", str(tmp_path / "h"), "--data-dir", str(tmp_path / "none")]
    )
    assert result.exit_code == 2
    assert "ratings.csv" in result.output or "movies.csv" in result.output
    assert "CINEREC_DATA_DIR" in result.output or "--download" in result.output
