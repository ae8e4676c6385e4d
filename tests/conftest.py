"""Fixtures shared across the suite: real data location, prepared platform state, settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Numeric libraries: one thread each, so tests behave the same on a busy 2-core machine.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The shared data sets, resolved the way the product resolves them."""
    from cinerec.data.paths import resolve_data_dir

    path = resolve_data_dir()
    if not (path / "ml-latest-small" / "ratings.csv").exists():
        pytest.fail(f"The real data sets are needed for this test and were not found in {path}.")
    return path


@pytest.fixture(scope="session")
def prepared_home(tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path) -> Iterator[Path]:
    """A cinerec home with the real catalog ingested into SQLite and ALS trained (once per run)."""
    from cinerec.config import Settings
    from cinerec.services.ingest import ensure_ready
    from cinerec.services.platform import Platform

    home = tmp_path_factory.mktemp("cinerec-home")
    settings = Settings(home=home, data_dir=real_data_dir, llm_backend="none", recommender="als")
    platform = Platform(settings)
    ensure_ready(platform, progress=False)
    platform.engine.dispose()
    yield home
