"""The command line, on the prepared real catalog and on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cinerec.cli.main import app

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


def test_post_prints_the_json_and_writes_cards_on_the_real_catalog(
    prepared_home: Path, real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real catalog and database; the model is a schema-aware fake and the embedder a hashing
    one (the real model runs in tests/services/test_posts_real_model.py)."""
    import json

    from cinerec.config import Settings
    from cinerec.db.repository import get_movies
    from cinerec.services import similar
    from cinerec.services.platform import Platform
    from tests.embeddings.fakes import HashingEmbedder
    from tests.llm.post_fakes import PostFake

    monkeypatch.setenv("CINEREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(similar, "build_embedder", lambda name, **kw: HashingEmbedder(name))
    fake = PostFake()
    monkeypatch.setattr(Platform, "llm", property(lambda self: fake))
    args = ["post", "--home", str(prepared_home), "--data-dir", str(real_data_dir)]
    out = tmp_path / "posts"
    result = runner.invoke(app, [*args, "--theme", "rainy day", "--n", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    post = json.loads(result.stdout)
    assert len(post["caption"].split("\n")) == 3 and len(post["movies"]) == 5
    catalog = Platform(Settings(home=prepared_home, llm_backend="none"))
    with catalog.session() as session:
        movies = get_movies(session, ids=[m["id"] for m in post["movies"]])
    assert [m["title"] for m in post["movies"]] == [movies[m["id"]].title for m in post["movies"]]
    assert len(list(out.glob("*.json"))) == 1 and len(list(out.glob("*.png"))) == 5
    bad = runner.invoke(app, [*args, "--theme", "   ", "--out", str(out)])
    assert bad.exit_code == 2 and "Give a theme" in bad.output


def test_worker_without_a_broker_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CINEREC_BROKER_URL", raising=False)
    result = runner.invoke(app, ["worker", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "CINEREC_BROKER_URL" in result.output


def test_jobs_enqueue_runs_in_process_and_jobs_lists_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from tests.jobs.conftest import tiny_ratings

    monkeypatch.delenv("CINEREC_BROKER_URL", raising=False)
    monkeypatch.setenv("CINEREC_LLM_BACKEND", "none")
    data = tmp_path / "data" / "ml-latest-small"
    data.mkdir(parents=True)
    tiny_ratings().to_csv(data / "ratings.csv", index=False)
    home = ["--home", str(tmp_path / "home")]
    args = ["jobs", "enqueue", "train", "--args", '{"name": "popularity"}', *home,
            "--data-dir", str(tmp_path / "data")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "job 1 queued" in result.output and "done" in result.output
    listed = runner.invoke(app, ["jobs", *home])
    assert listed.exit_code == 0 and listed.output.split()[:3] == ["1", "train", "done"]
    shown = json.loads(runner.invoke(app, ["jobs", "show", "1", *home]).output)
    assert shown["state"] == "done" and shown["result"]["version"] == 1
    assert runner.invoke(app, ["jobs", "show", "9", *home]).exit_code == 2
    bad = runner.invoke(app, ["jobs", "enqueue", "train", "--args", "[1]", *home])
    assert bad.exit_code == 2 and "JSON object" in bad.output
    unknown = runner.invoke(app, ["jobs", "enqueue", "nope", *home])
    assert unknown.exit_code == 2 and "no job named" in unknown.output


def test_jobs_cancel_cancels_a_queued_job_and_leaves_a_finished_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cinerec.config import Settings
    from cinerec.db import jobs as store
    from cinerec.services.platform import Platform

    monkeypatch.delenv("CINEREC_BROKER_URL", raising=False)
    home = ["--home", str(tmp_path / "home")]
    platform = Platform(Settings(home=tmp_path / "home", llm_backend="none"))
    platform.migrate()
    with platform.session() as session:  # queued, not sent to any worker
        queued = store.create_job(session, name="train", args={}).id
        done = store.create_job(session, name="embeddings", args={}).id
        store.start_job(session, job_id=done, worker="h:1")
        store.finish_job(session, job_id=done, result={})
    platform.engine.dispose()
    result = runner.invoke(app, ["jobs", "cancel", str(queued), *home])
    assert result.exit_code == 0, result.output
    assert result.output.split()[:3] == [str(queued), "train", "cancelled"]
    listed = runner.invoke(app, ["jobs", *home]).output.splitlines()
    assert [line.split()[2] for line in listed] == ["done", "cancelled"]
    kept = runner.invoke(app, ["jobs", "cancel", str(done), "--wait", "1", *home])
    assert kept.exit_code == 0 and kept.output.split()[:3] == [str(done), "embeddings", "done"]
    missing = runner.invoke(app, ["jobs", "cancel", "99", *home])
    assert missing.exit_code == 2 and "no job 99" in missing.output
