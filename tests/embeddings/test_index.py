"""build_index's choices and input checks; search behaviour is in test_index_contract.py."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.embeddings.index import build_index
from cinerec.errors import ModelError


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_build_index_kind(kind: str) -> None:
    vectors = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    index = build_index(list(range(50)), vectors, kind=kind)
    assert index.kind == kind and len(index) == 50


def test_auto_is_exact_for_a_small_catalog() -> None:
    assert build_index([1, 2], np.eye(2, dtype=np.float32)).kind == "exact"


def test_bad_input_rejected() -> None:
    with pytest.raises(ModelError, match="one vector per id"):
        build_index([1, 2, 3], np.eye(2, dtype=np.float32))
    with pytest.raises(ModelError, match="distinct ids"):
        build_index([1, 1], np.eye(2, dtype=np.float32))
    with pytest.raises(ModelError, match="Unknown index kind"):
        build_index([1], np.eye(1, dtype=np.float32), kind="faiss")
