"""The embedded runtime: a GGUF model run in-process by llama-cpp-python.

One ``Llama`` object is not thread-safe, so a lock serializes every call. The model is loaded on
the first call (the server must start fast); call :meth:`LlamaCppBackend.load` to warm it up.
Generation is streamed internally so the wall-clock deadline is checked after every token.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, Message
from cinerec.llm.backends.llamacpp_grammar import fast_grammar_llama_class


class LlamaCppBackend:
    """Runs a local GGUF file with llama.cpp.

    Args:
        model_path: The ``.gguf`` file (see :func:`cinerec.llm.models.locate_gguf`).
        n_threads: CPU threads for generation and prompt processing.
        n_ctx: Context window in tokens.
        seed: Sampling seed (outputs are deterministic at temperature 0 anyway).
        model_name: Name reported in :class:`Completion.model`; defaults to the file stem.

    Example:
        >>> backend = LlamaCppBackend(path, n_threads=2, n_ctx=4096, seed=42)  # doctest: +SKIP
        >>> backend.complete([Message("user", "Say hi")]).text  # doctest: +SKIP
    """

    name = "llamacpp"
    supports_schema = True
    can_stream = True

    def __init__(
        self,
        model_path: Path,
        *,
        n_threads: int = 2,
        n_ctx: int = 4096,
        seed: int = 42,
        model_name: str | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.seed = seed
        self.model = model_name or self.model_path.stem
        self.load_s: float | None = None
        self._llm: Any = None
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._llm is not None

    def load(self) -> None:
        """Load the model now (idempotent); raises LLMError when llama.cpp cannot load it."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> Any:
        if self._llm is not None:
            return self._llm
        if not self.model_path.is_file():
            raise LLMError(f"No model file at {self.model_path}; check CINEREC_LLM_MODEL.")
        try:
            import llama_cpp
        except ImportError as exc:
            raise LLMError(
                "llama-cpp-python is not installed; run `pip install llama-cpp-python==0.3.36` "
                "or set CINEREC_LLM_BACKEND=none (or openai)."
            ) from exc
        start = time.perf_counter()
        try:
            llama_class = fast_grammar_llama_class(llama_cpp)
            self._llm = llama_class(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on bad files
            raise LLMError(f"llama.cpp could not load {self.model_path.name}: {exc}") from exc
        self.load_s = time.perf_counter() - start
        return self._llm

    def _grammar(self, schema: dict[str, Any]) -> Any:
        """Compile (and cache) the grammar of a JSON schema; unsupported schemas fail loudly.

        llama-cpp-python silently falls back to free JSON when ``response_format`` carries a
        schema it cannot convert; compiling here turns that into an error instead.
        """
        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            from llama_cpp import LlamaGrammar

            try:
                grammar = LlamaGrammar.from_json_schema(key, verbose=False)
            except Exception as exc:
                raise LLMError(f"The JSON schema cannot be turned into a grammar: {exc}") from exc
            if len(self._grammars) > 64:
                self._grammars.clear()
            self._grammars[key] = grammar
        return grammar

    def _chunks(
        self,
        llm: Any,
        messages: list[Message],
        *,
        grammar: Any,
        max_tokens: int,
        temperature: float,
    ) -> Generator[dict[str, Any], None, None]:
        try:
            chunks = llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                grammar=grammar,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=self.seed,
                stream=True,
            )
            yield from chunks
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"llama.cpp failed while generating: {exc}") from exc

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Completion:
        """Generate one reply, constrained to ``schema`` when given.

        The deadline is checked after every generated token (prompt processing itself cannot be
        interrupted). Raises LLMError on timeout or any llama.cpp failure.
        """
        start = time.perf_counter()
        with self._lock:
            llm = self._load_locked()
            grammar = self._grammar(schema) if schema is not None else None
            started = time.perf_counter()
            deadline = None if timeout_s is None else start + timeout_s
            parts: list[str] = []
            n_chunks = 0
            finish: str | None = None
            stream = self._chunks(
                llm, messages, grammar=grammar, max_tokens=max_tokens, temperature=temperature
            )
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    text = choice.get("delta", {}).get("content")
                    if text:
                        parts.append(text)
                        n_chunks += 1
                    finish = choice.get("finish_reason") or finish
                    if deadline is not None and time.perf_counter() > deadline:
                        raise LLMError(
                            f"The local model did not finish within {timeout_s:.0f} s "
                            f"({n_chunks} tokens generated); raise llm_timeout_s or use a "
                            "smaller model."
                        )
            finally:
                stream.close()
            n_total = int(getattr(llm, "n_tokens", 0))
        elapsed = time.perf_counter() - start
        return Completion(
            text="".join(parts),
            model=self.model,
            prompt_tokens=max(n_total - n_chunks, 0),
            completion_tokens=n_chunks,
            elapsed_s=elapsed,
            extra={
                "finish_reason": finish,
                "generate_s": time.perf_counter() - started,
                "load_s": self.load_s,
            },
        )

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Iterator[str]:
        """Yield text pieces as they are generated; the lock is held until the stream ends."""
        with self._lock:
            llm = self._load_locked()
            chunks = self._chunks(
                llm, messages, grammar=None, max_tokens=max_tokens, temperature=temperature
            )
            try:
                for chunk in chunks:
                    text = chunk["choices"][0].get("delta", {}).get("content")
                    if text:
                        yield text
            finally:
                chunks.close()
