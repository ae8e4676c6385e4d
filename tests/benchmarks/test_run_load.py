"""The load benchmark's wrk generator (``benchmarks/load/viewer.lua``) sends locust's traffic:
the same requests, weights, movies and queries, with working CSRF writes, bounded in requests.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from benchmarks.load import run_load
from benchmarks.load.stack import ProductionWeb, admin_url, fresh_database

LOAD = Path(run_load.__file__).resolve().parent
LUA = (LOAD / "viewer.lua").read_text()


def _lua_list(name: str) -> list[str]:
    body = re.search(rf"local {name} = \{{(.*?)\}}\n", LUA, re.S)
    assert body, name
    return [a or b for a, b in re.findall(r'"([^"]*)"|(\d+)', body.group(1))]


def _locust() -> tuple[list[int], list[str], dict[str, int]]:
    tree = ast.parse((LOAD / "locustfile.py").read_text())
    constants = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("MOVIES", "QUERIES")
    }  # fmt: skip
    weights = {
        fn.name: fn.decorator_list[0].args[0].value  # type: ignore[attr-defined]
        for cls in tree.body if isinstance(cls, ast.ClassDef)
        for fn in cls.body if isinstance(fn, ast.FunctionDef) and fn.decorator_list
    }  # fmt: skip
    return list(constants["MOVIES"]), list(constants["QUERIES"]), weights


def test_viewer_lua_sends_the_locustfile_s_mix() -> None:
    movies, queries, weights = _locust()
    assert [int(m) for m in _lua_list("MOVIES")] == movies
    assert _lua_list("QUERIES") == queries
    tasks = dict(re.findall(r'\{"(\w+)", (\d+)\}', LUA))
    assert {name: int(w) for name, w in tasks.items()} == weights
    for name in weights:  # every task is sent
        assert f'name == "{name}"' in LUA or name == "feedback_list", name


@pytest.mark.db
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_viewers_browse_and_write_bounded_in_requests(
    real_data_dir: Path, tmp_path: Path
) -> None:
    with fresh_database(admin_url()) as url:
        env = {"CINEREC_DATA_DIR": str(real_data_dir)}
        with ProductionWeb(url, workers=1, home=tmp_path / "home", env=env) as web:
            profiles = tmp_path / "profiles.tsv"
            run_load._wrk_profiles(web.base_url, 3, profiles)
            figures = run_load._wrk(web.base_url, 3, 3, 10**9, profiles, "0.01-0.02")
            assert figures["requests"] > 30 and figures["failures"] == 0, figures
            assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
            engine = create_engine(url)
            with engine.connect() as db:
                written = db.execute(text("SELECT count(*) FROM feedback")).scalar_one()
            engine.dispose()
            assert written > 0, "no viewer's CSRF-protected write landed"
            bounded = run_load._wrk(web.base_url, 3, 10, 25, profiles, "0.01-0.02")
            assert 25 <= bounded["requests"] <= 25 + 3, bounded  # stopped at 25, not at 10 s
            with pytest.raises(SystemExit, match="127.0.0.1 only"):
                run_load._wrk("http://localhost:1", 1, 1, 1, profiles, "0")
