"""build_backend maps every configured backend name to a backend (or None)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cinerec.config import LLMBackendName, Settings
from cinerec.errors import LLMError
from cinerec.llm.backends.llamacpp import LlamaCppBackend
from cinerec.llm.backends.openai_http import OpenAICompatibleBackend
from cinerec.llm.backends.registry import BACKENDS, build_backend


def test_every_backend_name_has_a_builder() -> None:
    assert set(BACKENDS) == set(LLMBackendName)


def test_none_means_no_model(tmp_path: Path) -> None:
    assert build_backend(Settings(home=tmp_path, llm_backend="none")) is None


def test_openai_backend_gets_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        llm_backend="openai",
        openai_base_url="http://127.0.0.1:9/v1/",
        openai_model="qwen2.5:1.5b-instruct",
        openai_api_key="k",
        llm_timeout_s=12.5,
    )
    backend = build_backend(settings)
    assert isinstance(backend, OpenAICompatibleBackend)
    assert backend.url == "http://127.0.0.1:9/v1/chat/completions"
    assert backend.model == "qwen2.5:1.5b-instruct" and backend.timeout_s == 12.5


def test_llamacpp_with_a_gguf_path_is_not_loaded_yet(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    settings = Settings(home=tmp_path, cache_dir=tmp_path, llm_model=str(gguf), llm_threads=3)
    backend = build_backend(settings)
    assert isinstance(backend, LlamaCppBackend)
    assert not backend.loaded
    assert backend.model_path == gguf and backend.n_threads == 3 and backend.model == "tiny"


def test_llamacpp_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="Unknown model 'gpt-9'"):
        build_backend(Settings(home=tmp_path, cache_dir=tmp_path, llm_model="gpt-9"))
