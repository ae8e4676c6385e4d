"""The embedded runtime: a GGUF model run in-process by llama-cpp-python.

One ``Llama`` object is not thread-safe, so a lock serializes every call. The model is loaded on
the first call (the server must start fast); call :meth:`LlamaCppBackend.load` to warm it up.
Generation is streamed internally so the wall-clock deadline and the caller's cancel token
(:class:`~cinerec.llm.backends.cancel.CancelToken`) are checked after every token: a cancelled
call stops there, gives the lock back and raises :class:`~cinerec.llm.backends.cancel.Cancelled`.

:meth:`LlamaCppBackend.score_next_tokens` (the :class:`~cinerec.llm.backends.base.TokenScorer`
protocol) evaluates prompts token by token against the KV cache: whatever token prefix is
already cached (from the previous candidate, the previous call or a previous generation) is kept
and only the rest is run, then the next-token log-probabilities are read from the last logits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, Message, OptionScores, estimate_tokens
from cinerec.llm.backends.cancel import DEADLINE, Cancelled, CancelToken
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
    supports_scoring = True
    can_cancel = True  # complete/stream stop within a token of ``cancel`` being cancelled
    caches_prefix = True  # one KV cache in this process: a warm-up helps the next call

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
        self._formatter: Any = None

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

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer (chat specials counted as one each).

        Loads the model on first use. Tokenizing reads only the vocabulary, not the context, so
        it does not wait for a running generation (llama.cpp's own server tokenizes while its
        slots decode); if loading fails, the estimate is returned.
        """
        llm = self._llm
        if llm is None:
            try:
                self.load()
            except LLMError:
                return estimate_tokens(text)
            llm = self._llm
        try:
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        except Exception:  # noqa: BLE001 - a tokenizer hiccup must not fail the caller
            return estimate_tokens(text)

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
        cancel: CancelToken | None = None,
    ) -> Generator[dict[str, Any], None, None]:
        """The chat completion's stream chunks; with ``cancel``, generation stops (Cancelled)
        before the prompt is evaluated and after every token once the token is cancelled."""
        llm.stop_check = cancel.check if cancel is not None else None  # never a stale one
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
        finally:
            llm.stop_check = None

    @staticmethod
    def _stopped(token: CancelToken, n_tokens: int, timeout_s: float | None) -> Cancelled:
        """The error of a call stopped by its token (the timeout's own words for a deadline)."""
        reason = token.reason or "cancelled"
        if reason == DEADLINE and timeout_s is not None:
            message = (
                f"The local model did not finish within {timeout_s:.0f} s ({n_tokens} tokens "
                "generated); raise llm_timeout_s or use a smaller model."
            )
        elif reason == DEADLINE:
            message = f"The local model did not finish within its deadline ({n_tokens} tokens)."
        else:
            message = f"The local model was stopped: {reason} ({n_tokens} tokens generated)."
        return Cancelled(message, reason=reason, tokens=n_tokens)

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """Generate one reply, constrained to ``schema`` when given.

        The deadline and ``cancel`` are checked after every generated token (prompt processing
        itself cannot be interrupted). Raises LLMError on any llama.cpp failure, Cancelled (an
        LLMError) on timeout or cancellation.
        """
        start = time.perf_counter()
        token = CancelToken.after(timeout_s) if cancel is None else cancel.within(timeout_s)
        with self._lock:
            llm = self._load_locked()
            grammar = self._grammar(schema) if schema is not None else None
            started = time.perf_counter()
            parts: list[str] = []
            n_chunks = 0
            finish: str | None = None
            stream = self._chunks(
                llm,
                messages,
                grammar=grammar,
                max_tokens=max_tokens,
                temperature=temperature,
                cancel=token,
            )
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    text = choice.get("delta", {}).get("content")
                    if text:
                        parts.append(text)
                        n_chunks += 1
                    finish = choice.get("finish_reason") or finish
                    if token.cancelled:
                        raise self._stopped(token, n_chunks, timeout_s)
            except Cancelled:
                raise self._stopped(token, n_chunks, timeout_s) from None
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
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as they are generated; the lock is held until the stream ends.

        Once ``cancel`` is cancelled, generation stops at the next token and the stream raises
        :class:`Cancelled` (closing the iterator early stops it too).
        """
        with self._lock:
            llm = self._load_locked()
            chunks = self._chunks(
                llm,
                messages,
                grammar=None,
                max_tokens=max_tokens,
                temperature=temperature,
                cancel=cancel,
            )
            n_pieces = 0
            try:
                for chunk in chunks:
                    text = chunk["choices"][0].get("delta", {}).get("content")
                    if cancel is not None and cancel.cancelled:
                        raise self._stopped(cancel, n_pieces, None)
                    if text:
                        n_pieces += 1
                        yield text
            except Cancelled as exc:
                raise (exc if cancel is None else self._stopped(cancel, n_pieces, None)) from None
            finally:
                chunks.close()

    # -- scoring (TokenScorer) -------------------------------------------------------------------

    def clear_cache(self) -> None:
        """Forget the KV cache, so the next call evaluates its whole prompt (for tests and
        benchmarks that compare with and without prefix reuse)."""
        with self._lock:
            if self._llm is not None:
                self._llm.reset()

    def _chat_formatter(self, llm: Any) -> Any:
        """The GGUF's own chat template, rendered as ``create_chat_completion`` renders it."""
        if self._formatter is None:
            template = (getattr(llm, "metadata", None) or {}).get("tokenizer.chat_template")
            if not template:
                raise LLMError(
                    f"{self.model} has no chat template; score with a plain string prefix."
                )
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def text(token_id: int) -> str:
                return llm._model.token_get_text(token_id) if token_id != -1 else ""

            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=text(llm.token_eos()),
                bos_token=text(llm.token_bos()),
                add_generation_prompt=True,
            )
        return self._formatter

    def _prompt_parts(self, llm: Any, prefix: list[Message] | str) -> tuple[str, str, bool]:
        """(text before the suffix, text after it, whether to add BOS when tokenizing)."""
        if isinstance(prefix, str):
            return prefix, "", True
        if not prefix or prefix[-1].role != "user":
            raise LLMError("Scoring needs chat messages that end with a user message.")
        messages: list[dict[str, str]] = [{"role": m.role, "content": m.content} for m in prefix]
        messages[-1]["content"] += _SUFFIX_MARK
        try:
            prompt = self._chat_formatter(llm)(messages=messages).prompt
        except LLMError:
            raise
        except Exception as exc:  # jinja2 errors from a template the model ships
            raise LLMError(f"The chat template of {self.model} failed: {exc}") from exc
        head, mark, tail = prompt.partition(_SUFFIX_MARK)
        if not mark:
            raise LLMError(f"The chat template of {self.model} dropped part of the message.")
        return head, tail, False

    def _option_ids(self, llm: Any, options: Sequence[str]) -> dict[str, list[int]]:
        """Per option, the token ids that start it (as written, and after a space)."""
        out: dict[str, list[int]] = {}
        for option in options:
            ids: list[int] = []
            for variant in (option, " " + option):
                tokens = llm.tokenize(variant.encode("utf-8"), add_bos=False, special=False)
                if not tokens:
                    continue
                piece = llm.detokenize(tokens[:1]).decode("utf-8", "replace")
                if piece.strip() and tokens[0] not in ids:
                    ids.append(int(tokens[0]))
            if not ids:
                raise LLMError(f"The option {option!r} has no token of its own; use visible text.")
            out[option] = ids
        return out

    @staticmethod
    def _sync_cache(llm: Any, tokens: Sequence[int], keep_at_most: int) -> int:
        """Cut the KV cache back to its common prefix with ``tokens`` (at most ``keep_at_most``
        tokens); returns how many cached tokens are kept."""
        cached = llm.input_ids[: llm.n_tokens]
        limit = min(len(cached), len(tokens), keep_at_most)
        common = 0
        if limit:
            same = np.asarray(cached[:limit]) == np.asarray(tokens[:limit])
            common = limit if same.all() else int(np.argmin(same))
        if common < llm.n_tokens:
            if common > 0 and not llm._ctx.kv_cache_seq_rm(-1, common, -1):
                common = 0  # recurrent models cannot drop part of their memory
            if common == 0:
                llm.reset()
            llm.n_tokens = common
        return common

    def _last_logprobs(self, llm: Any, ids: dict[str, list[int]]) -> dict[str, float]:
        import llama_cpp

        pointer = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
        logits = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).astype(np.float64)
        top = logits.max()
        log_norm = top + np.log(np.exp(logits - top).sum())
        return {
            option: float(np.logaddexp.reduce(logits[token_ids]) - log_norm)
            for option, token_ids in ids.items()
        }

    def score_next_tokens(
        self,
        prefix: list[Message] | str,
        suffixes: Sequence[str],
        options: Sequence[str],
        *,
        timeout_s: float | None = None,
    ) -> OptionScores:
        """Log-probabilities of each option as the next token after prefix + each suffix.

        The shared token prefix of all prompts is evaluated once (or taken from the KV cache);
        then, per suffix, the cache is cut back to that prefix and only the suffix is run. The
        cache is left holding the last prompt, so a following call (or a chat completion) that
        starts with the same prefix skips it. See
        :class:`~cinerec.llm.backends.base.TokenScorer` for the prompt layout.

        Raises:
            LLMError: no options or suffixes, a prompt longer than the context, the deadline
                passed (checked between suffixes), or any llama.cpp failure.
        """
        start = time.perf_counter()
        deadline = None if timeout_s is None else start + timeout_s
        if not options or not suffixes:
            raise LLMError("Scoring needs at least one suffix and one option.")
        with self._lock:
            llm = self._load_locked()
            head, tail, add_bos = self._prompt_parts(llm, prefix)
            option_ids = self._option_ids(llm, options)
            prompts = [
                llm.tokenize((head + s + tail).encode("utf-8"), add_bos=add_bos, special=True)
                for s in suffixes
            ]
            longest = max(len(p) for p in prompts)
            if longest > self.n_ctx:
                raise LLMError(
                    f"A scoring prompt has {longest} tokens, more than the context "
                    f"({self.n_ctx}); shorten it or raise llm_context."
                )
            # The shared prefix: the prefix text's tokens, as far as every prompt starts with
            # them (a suffix can merge with the prefix's last token).
            head_tokens = llm.tokenize(head.encode("utf-8"), add_bos=add_bos, special=True)
            shared = max(min(len(head_tokens), *(len(p) - _MIN_EVAL for p in prompts)), 0)
            for tokens in prompts:
                same = np.asarray(head_tokens[:shared]) == np.asarray(tokens[:shared])
                shared = shared if same.all() else int(np.argmin(same))
            results: list[dict[str, float]] = []
            evaluated = 0
            try:
                cached = self._sync_cache(llm, prompts[0], shared)
                prefix_start = time.perf_counter()
                if shared > cached:
                    llm.eval(prompts[0][cached:shared])
                    evaluated += shared - cached
                prefix_s = time.perf_counter() - prefix_start
                for k, tokens in enumerate(prompts):
                    if deadline is not None and time.perf_counter() > deadline:
                        raise LLMError(
                            f"The local model did not finish scoring within {timeout_s:.1f} s "
                            f"({k} of {len(prompts)} prompts scored); raise llm_timeout_s or use "
                            "a smaller model."
                        )
                    kept = self._sync_cache(llm, tokens, len(tokens) - _MIN_EVAL)
                    llm.eval(tokens[kept:])
                    evaluated += len(tokens) - kept
                    results.append(self._last_logprobs(llm, option_ids))
            except LLMError:
                raise
            except Exception as exc:  # llama_decode failures surface as RuntimeError
                llm.reset()
                raise LLMError(f"llama.cpp failed while scoring: {exc}") from exc
        total = sum(len(p) for p in prompts)
        return OptionScores(
            logprobs=results,
            model=self.model,
            prompt_tokens=total,
            evaluated_tokens=evaluated,
            reused_tokens=total - evaluated,
            prefix_s=prefix_s,
            elapsed_s=time.perf_counter() - start,
            extra={"shared_tokens": shared, "cached_tokens": cached, "load_s": self.load_s},
        )


# Tokens always evaluated at the end of a prompt, even when cached. llama.cpp computes a one-token
# batch with other kernels than a longer one (log-probabilities differ by up to ~0.1 with small
# quantized models); two or more keeps every score on the same path, whatever the cache held.
_MIN_EVAL = 2

# Marks where the suffix goes in a rendered chat prompt (control characters never occur in text
# a template adds, and survive every template's string handling).
_SUFFIX_MARK = "\x1fcinerec-suffix\x1f"
