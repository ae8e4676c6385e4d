from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cinerec.cli.embed import embed_app
from cinerec.config import LLMBackendName, Settings
from cinerec.data.types import Movie
from cinerec.db.repository import upsert_movies
from cinerec.embeddings import registry
from cinerec.services.platform import Platform
from tests.embeddings.fakes import HashingEmbedder


def test_build_embeds_the_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CINEREC_CACHE_DIR", str(tmp_path / "cache"))
    fake = HashingEmbedder()
    monkeypatch.setitem(registry.EMBEDDERS, "fake-hash", lambda threads, model_dir: fake)
    platform = Platform(Settings(home=tmp_path, llm_backend=LLMBackendName.NONE))
    platform.migrate()
    with platform.session() as session:
        upsert_movies(
            session, movies=[Movie(i, f"Movie {i}", description=f"d{i}") for i in range(5)]
        )
    result = CliRunner().invoke(
        embed_app, ["build", "--home", str(tmp_path), "--embedder", "fake-hash"]
    )
    assert result.exit_code == 0, result.output
    assert "5 movies embedded with fake-hash (exact index)" in result.output
    assert sorted(fake.calls) == [f"d{i}" for i in range(5)]
    assert (tmp_path / "cache" / "embeddings" / "fake-hash").is_dir()


def test_unknown_embedder_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(embed_app, ["build", "--home", str(tmp_path), "--embedder", "nope"])
    assert result.exit_code == 2
    assert "Unknown embedder 'nope'" in result.output
