"""``cinerec batch``: bad input gets one clear line and exit status 2, before any cluster starts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cinerec.cli.main import app


def test_grid_refuses_a_grid_that_is_not_a_json_list(tmp_path: Path) -> None:
    runner = CliRunner()
    for bad, said in (("{nope", "not JSON"), ('{"a": 1}', "JSON list of objects")):
        result = runner.invoke(app, ["batch", "grid", "--model", "ease", "--grid", bad])
        assert result.exit_code == 2
        assert said in result.output


def test_reviews_on_an_empty_catalog_says_to_ingest(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["batch", "reviews", "--workers", "1", "--home", str(tmp_path / "home")]
    )
    assert result.exit_code == 2
    assert "cinerec ingest" in result.output
