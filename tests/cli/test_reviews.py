from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from cinerec.cli.reviews import reviews_app


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


def test_summarize_stores_summaries_and_explains_an_empty_catalog(tmp_path: Path) -> None:
    from cinerec.config import Settings
    from cinerec.data.types import Movie
    from cinerec.db import repository as repo
    from cinerec.services.platform import Platform
    from cinerec.services.reviews import summaries_for
    from tests.services.test_reviews import save_models, write_archive

    data, home = write_archive(tmp_path / "data"), tmp_path / "home"
    common = ["--data-dir", str(data), "--home", str(home)]
    empty = CliRunner().invoke(_app(), ["reviews", "summarize", *common])
    assert empty.exit_code == 2 and "cinerec ingest" in empty.output
    platform = Platform(Settings(home=home, data_dir=data))
    with platform.session() as session:
        repo.upsert_movies(session, movies=[Movie(1, "Heat", imdb_id="0000111")], popularity={})
    save_models(home)
    result = CliRunner().invoke(_app(), ["reviews", "summarize", *common])
    assert result.exit_code == 0 and "Summarised 1 movies from 4 reviews" in result.output
    assert summaries_for(platform, [1])[1].n_reviews == 4


def test_finetune_and_tune_refuse_korean_with_a_clear_message(tmp_path: Path) -> None:
    common = ["--data-dir", str(tmp_path), "--home", str(tmp_path)]
    for command in ("finetune", "tune"):
        result = CliRunner().invoke(_app(), ["reviews", command, "nsmc", *common])
        assert result.exit_code == 2, result.output
        assert "English-only" in result.output and "TF-IDF" in result.output
