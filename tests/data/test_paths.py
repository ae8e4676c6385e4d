"""Data directory resolution order and require_file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cinerec.data import paths
from cinerec.data.paths import ENV_VAR, require_file, resolve_data_dir
from cinerec.errors import DataError


@pytest.fixture
def no_shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No env var, a cwd without ../shared/data, and a checkout without one either."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    cwd = tmp_path / "work" / "repo"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(paths, "_REPO_ROOT", tmp_path / "elsewhere" / "repo")
    return cwd


def test_explicit_wins_over_everything(no_shared: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    (no_shared.parent / "shared" / "data").mkdir(parents=True)
    assert resolve_data_dir(tmp_path / "mine") == tmp_path / "mine"


def test_env_wins_over_shared(no_shared: Path, monkeypatch, tmp_path: Path) -> None:
    (no_shared.parent / "shared" / "data").mkdir(parents=True)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"


def test_blank_env_is_ignored(no_shared: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, "  ")
    assert resolve_data_dir(cache_dir=tmp_path / "cache") == tmp_path / "cache" / "data"


def test_shared_relative_to_cwd(no_shared: Path) -> None:
    shared = no_shared.parent / "shared" / "data"
    shared.mkdir(parents=True)
    assert resolve_data_dir() == shared.resolve()


def test_shared_relative_to_checkout_when_cwd_differs(
    no_shared: Path, monkeypatch, tmp_path: Path
) -> None:
    repo = tmp_path / "checkout" / "repo"
    shared = tmp_path / "checkout" / "shared" / "data"
    shared.mkdir(parents=True)
    monkeypatch.setattr(paths, "_REPO_ROOT", repo)
    assert resolve_data_dir() == shared.resolve()


def test_falls_back_to_cache(no_shared: Path, tmp_path: Path) -> None:
    assert resolve_data_dir(cache_dir=tmp_path / "c") == tmp_path / "c" / "data"


def test_default_cache_follows_xdg(no_shared: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir() == tmp_path / "xdg" / "cinerec" / "data"


def test_require_file_names_file_and_remedy(tmp_path: Path) -> None:
    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "u.data").write_text("1\t2\t3\t4\n")
    assert require_file(tmp_path, "ml-100k/u.data", "x") == tmp_path / "ml-100k" / "u.data"
    with pytest.raises(DataError, match=r"ml-100k/u\.item is missing; run the thing\."):
        require_file(tmp_path, "ml-100k/u.item", "run the thing")
    with pytest.raises(DataError, match="CINEREC_DATA_DIR"):
        require_file(tmp_path, "nothing.csv")
