"""LlamaCppBackend with a real embedded model (SmolLM2-135M, one thread)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Message
from cinerec.llm.backends.llamacpp import LlamaCppBackend
from cinerec.llm.schemas import persona_schema, rerank_schema
from tests.llm.backends.contract import BackendContract
from tests.llm.conftest import require_llama_cpp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_backend(smallest_model_path: Path) -> LlamaCppBackend:
    require_llama_cpp()
    backend = LlamaCppBackend(
        smallest_model_path, n_threads=1, n_ctx=1024, seed=7, model_name="smollm2-135m"
    )
    backend.load()
    return backend


class TestLlamaCppContract(BackendContract):
    registry_name = "llamacpp"
    backend_class = LlamaCppBackend

    @pytest.fixture
    def backend(self, small_backend: LlamaCppBackend) -> LlamaCppBackend:
        return small_backend

    def arrange_timeout(self, backend: Any) -> tuple[float, int]:
        return 0.001, 200

    def broken_backend(self, backend: Any) -> LlamaCppBackend:
        return LlamaCppBackend(self.junk, n_threads=1, n_ctx=512)

    @pytest.fixture(autouse=True)
    def _junk_file(self, tmp_path: Path) -> None:
        self.junk = tmp_path / "junk.gguf"
        self.junk.write_bytes(b"GGUF" + b"\x00" * 64)


def test_construction_is_lazy_and_fast(smallest_model_path: Path) -> None:
    start = time.perf_counter()
    backend = LlamaCppBackend(smallest_model_path, n_threads=1, n_ctx=512)
    assert time.perf_counter() - start < 0.1
    assert not backend.loaded
    assert backend.model == smallest_model_path.stem


def test_missing_file_is_an_llm_error(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="No model file"):
        LlamaCppBackend(tmp_path / "nope.gguf", n_threads=1).load()


def test_loaded_backend_reports_load_time(small_backend: LlamaCppBackend) -> None:
    assert small_backend.loaded
    assert small_backend.load_s is not None and 0 < small_backend.load_s < 30


def test_persona_schema_is_enforced(small_backend: LlamaCppBackend) -> None:
    messages = [Message("user", 'Describe a fan of crime movies. Answer as {"persona": "..."}')]
    completion = small_backend.complete(messages, schema=persona_schema(), max_tokens=160)
    data = json.loads(completion.text)
    assert set(data) == {"persona"} and isinstance(data["persona"], str)
    assert completion.completion_tokens > 0 and completion.prompt_tokens > 0


@pytest.mark.parametrize("schema", [persona_schema(), rerank_schema(list(range(100, 120)), n=10)])
def test_our_schemas_compile_to_grammars(schema: dict[str, Any]) -> None:
    """llama-cpp-python silently falls back to free JSON on unsupported schemas; ours compile."""
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(json.dumps(schema))
    assert "100" in gbnf or "persona" in gbnf
    LlamaGrammar.from_string(gbnf, verbose=False)


def test_the_stop_check_runs_before_the_prompt_and_after_every_token(
    small_backend: LlamaCppBackend,
) -> None:
    """The generation hook alone (no streaming consumer in between) ends a generation."""
    from cinerec.llm.backends.cancel import Cancelled

    calls: list[float] = []

    def check() -> None:
        calls.append(time.monotonic())
        if len(calls) > 4:
            raise Cancelled("stop here", reason="test", tokens=len(calls) - 1)

    small_backend.load()
    with small_backend._lock:
        llm = small_backend._llm
        llm.stop_check = check
        try:
            with pytest.raises(Cancelled, match="stop here"):
                llm.create_chat_completion(
                    messages=[{"role": "user", "content": "Write a long story."}],
                    max_tokens=100,
                    temperature=0.0,
                )  # not streamed: nothing but the hook can stop it
        finally:
            llm.stop_check = None
    assert len(calls) == 5  # once before the prompt, then after each of 4 tokens
    after = small_backend.complete([Message("user", "Say hi.")], max_tokens=4, timeout_s=60)
    assert after.text  # the model is usable after a stopped generation


@pytest.mark.parametrize("language", ["en", "ko"])
def test_reason_grammars_are_accepted_by_llama_cpp(
    small_backend: LlamaCppBackend, language: str
) -> None:
    """llama.cpp refuses a grammar with too many repeated rules when the sampler is made, not
    when the Python grammar object is: one Korean word pattern (a second Latin word after an
    apostrophe) made every Korean reason of a run fall back to its template."""
    from cinerec.data.types import Movie
    from cinerec.llm.evidence import build_evidence
    from cinerec.llm.reasons import card_schema

    ticked = [
        Movie(2, "Schindler's List", 1993, ("Drama", "War"), director="Steven Spielberg"),
        Movie(3, "Jaws", 1975, ("Action", "Horror"), director="Steven Spielberg"),
    ]
    for genres in (("Drama", "Romance"), ("Horror",), ("Documentary",), ("Comedy",)):
        card = Movie(
            1,
            "Ocean's Eleven",
            2001,
            genres,
            director="Steven Spielberg",
            cast=("George Clooney", "Brad Pitt"),
            keywords=("heist", "casino"),
        )
        evidence = build_evidence(card, ticked, taste="slow-burn heist films", language=language)
        schema = card_schema(language, evidence, ticked)
        messages = [Message("user", "Say why.")]
        completion = small_backend.complete(messages, schema=schema, max_tokens=4)
        assert completion.text is not None
