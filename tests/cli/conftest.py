"""The review commands' tests need the synthetic IMDB archive of the review-model tests."""

from __future__ import annotations

import pytest

from tests.reviews.conftest import write_imdb_archive


@pytest.fixture
def imdb_dir(tmp_path):  # noqa: ANN001, ANN201
    """A data directory holding only a synthetic IMDB archive (30 reviews per folder)."""
    return write_imdb_archive(tmp_path / "data")
