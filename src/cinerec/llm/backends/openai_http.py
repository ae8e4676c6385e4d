"""A model server speaking the OpenAI chat-completions protocol (Ollama, vLLM, llama.cpp, OpenAI).

``complete`` posts to ``{base_url}/chat/completions``; a JSON schema goes out as an OpenAI
``json_schema`` response format. ``stream`` reads server-sent events (``data:`` lines ending with
``[DONE]``). Every failure becomes :class:`cinerec.errors.LLMError`; messages never contain the
API key.

A call given a cancel token (``cancel=``, :class:`~cinerec.llm.backends.cancel.CancelToken`)
streams: the token is checked at every server-sent event (one per token) and, once cancelled,
the response is closed, which closes the connection; llama-server (and vLLM) then stop that
request's generation and free its slot. ``complete`` with a token therefore asks for a stream
and joins the pieces (without one it sends one plain request, as before).

``score_next_tokens`` (the :class:`~cinerec.llm.backends.base.TokenScorer` protocol) asks for
one token with the top log-probabilities, one request per suffix: chat messages go to
``/chat/completions`` with ``logprobs: true, top_logprobs: 20`` (the server applies its own chat
template, which this client cannot know), a plain string prompt goes to ``/completions`` with
``logprobs: 20``. Servers with prefix caching (llama.cpp server, vLLM) reuse the shared prefix
themselves. A server that sends no log-probabilities raises LLMError, so callers fall back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import numpy as np

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, Message, OptionScores, estimate_tokens
from cinerec.llm.backends.cancel import DEADLINE, Cancelled, CancelToken

TOP_LOGPROBS = 20
# An option outside the server's top-k gets (lowest log-probability seen) - this margin.
MISSING_MARGIN = 1.0


class OpenAICompatibleBackend:
    """Client for any OpenAI-compatible chat-completions endpoint.

    Args:
        base_url: Endpoint root including the version, e.g. ``http://127.0.0.1:11434/v1``.
        model: Model name the server knows, e.g. ``qwen2.5:1.5b-instruct``.
        api_key: Bearer token; empty for local servers.
        timeout_s: Default per-request timeout (connect and each read).
        caches_prefix: The server keeps a prompt-prefix cache (llama.cpp's servers, vLLM and
            Ollama do), so a warm-up call makes the next call with the same start faster.
        schema_format: ``json_schema`` (OpenAI's ``response_format``, as vLLM and llama-server
            take it) or ``json_object`` with a ``schema`` field (llama-cpp-python's server).

    Example:
        >>> b = OpenAICompatibleBackend("http://127.0.0.1:11434/v1", "qwen2.5:1.5b-instruct")
        >>> b.supports_schema
        True
    """

    name = "openai"
    supports_schema = True
    can_stream = True
    supports_scoring = True
    can_cancel = True  # a cancelled call closes its stream: the server frees the slot

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 90.0,
        *,
        caches_prefix: bool = True,
        schema_format: str = "json_schema",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.caches_prefix = caches_prefix
        if schema_format not in ("json_schema", "json_object"):
            raise ValueError(f"schema_format is json_schema or json_object, not {schema_format!r}")
        self.schema_format = schema_format
        self.model = model
        self.timeout_s = timeout_s
        self._api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, transport=transport)

    def count_tokens(self, text: str) -> int:
        """A safe over-estimate (the server's tokenizer is a round trip away)."""
        return estimate_tokens(text)

    @property
    def url(self) -> str:
        """The chat-completions URL."""
        return f"{self.base_url}/chat/completions"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def _safe(self, text: str) -> str:
        """Remove the API key from anything that goes into an error message."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def _payload(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        stream: bool,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": stream,
        }
        if schema is not None and self.schema_format == "json_object":
            payload["response_format"] = {"type": "json_object", "schema": schema}
        elif schema is not None:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": str(schema.get("title") or "output"),
                    "schema": schema,
                    "strict": True,
                },
            }
        return payload

    def _error(self, exc: Exception, timeout_s: float) -> LLMError:
        if isinstance(exc, httpx.TimeoutException):
            message = (
                f"The model server at {self.base_url} did not answer within {timeout_s:.0f} s; "
                "raise llm_timeout_s or check the server."
            )
        elif isinstance(exc, httpx.ConnectError):
            message = (
                f"Could not connect to the model server at {self.base_url}; is it running "
                "(check CINEREC_OPENAI_BASE_URL)?"
            )
        else:
            message = f"Request to the model server at {self.base_url} failed: {exc!s}"
        return LLMError(self._safe(message))

    def _check_status(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        body = response.read().decode("utf-8", "replace")[:300]
        raise LLMError(
            self._safe(
                f"The model server at {self.base_url} answered HTTP {response.status_code}: "
                f"{body.strip() or response.reason_phrase}; check the model name and the server."
            )
        )

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
        """POST one chat completion and return its first choice (streamed when ``cancel`` is
        given, so a cancelled call closes the connection within a token)."""
        timeout = timeout_s if timeout_s is not None else self.timeout_s
        if cancel is not None:
            return self._complete_streamed(
                messages, schema, max_tokens, temperature, cancel.within(timeout), timeout
            )
        payload = self._payload(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature, stream=False
        )
        start = time.perf_counter()
        try:
            response = self._client.post(self.url, json=payload, timeout=timeout)
        except httpx.HTTPError as exc:
            raise self._error(exc, timeout) from None
        self._check_status(response)
        try:
            body = response.json()
            choice = body["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMError(
                f"The model server at {self.base_url} sent a malformed reply ({exc!s}); "
                "is it really OpenAI-compatible?"
            ) from None
        usage = body.get("usage") or {}
        return Completion(
            text=text,
            model=str(body.get("model") or self.model),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            elapsed_s=time.perf_counter() - start,
            extra={"finish_reason": choice.get("finish_reason")},
        )

    def _stopped(self, token: CancelToken, n_pieces: int, timeout_s: float) -> Cancelled:
        reason = token.reason or "cancelled"
        if reason == DEADLINE:
            message = (
                f"The model server at {self.base_url} did not finish within {timeout_s:.0f} s "
                f"({n_pieces} pieces received); raise llm_timeout_s or check the server."
            )
        else:
            message = f"The request to {self.base_url} was stopped: {reason} ({n_pieces} pieces)."
        return Cancelled(self._safe(message), reason=reason, tokens=n_pieces)

    def _events(
        self, payload: dict[str, Any], timeout_s: float, cancel: CancelToken | None
    ) -> Iterator[dict[str, Any]]:
        """The parsed ``data:`` events of a streamed request, up to ``[DONE]``.

        With ``cancel``: checked before the request and at every event; once cancelled the
        response is closed (leaving the ``with`` block closes the connection, so the server stops
        generating) and :class:`Cancelled` is raised. Each read waits at most the time the token
        has left.
        """
        read_s = timeout_s
        if cancel is not None:
            cancel.check(f"The request to {self.base_url}")
            left = cancel.left()
            read_s = timeout_s if left is None else max(min(timeout_s, left), 0.001)
        n_pieces = 0
        try:
            with self._client.stream("POST", self.url, json=payload, timeout=read_s) as response:
                self._check_status(response)
                for line in response.iter_lines():
                    if cancel is not None and cancel.cancelled:
                        raise self._stopped(cancel, n_pieces, timeout_s)
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        return
                    try:
                        event = json.loads(data)
                        if not isinstance(event["choices"][0], dict):
                            raise TypeError("a choice is not an object")
                    except (ValueError, KeyError, IndexError, TypeError):
                        raise LLMError(
                            f"The model server at {self.base_url} sent a malformed stream event; "
                            "is it really OpenAI-compatible?"
                        ) from None
                    n_pieces += 1
                    yield event
        except httpx.TimeoutException as exc:
            if cancel is not None and cancel.cancelled:
                raise self._stopped(cancel, n_pieces, timeout_s) from None
            raise self._error(exc, timeout_s) from None
        except httpx.HTTPError as exc:
            raise self._error(exc, timeout_s) from None

    @staticmethod
    def _delta(event: dict[str, Any]) -> dict[str, Any]:
        delta = event["choices"][0].get("delta")
        return delta if isinstance(delta, dict) else {}

    def _complete_streamed(
        self,
        messages: list[Message],
        schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        cancel: CancelToken,
        timeout_s: float,
    ) -> Completion:
        payload = self._payload(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature, stream=True
        )
        start = time.perf_counter()
        parts: list[str] = []
        finish: str | None = None
        model = self.model
        usage: dict[str, Any] = {}
        for event in self._events(payload, timeout_s, cancel):
            text = self._delta(event).get("content")
            if isinstance(text, str) and text:
                parts.append(text)
            finish = event["choices"][0].get("finish_reason") or finish
            model = str(event.get("model") or model)
            usage = event.get("usage") or usage
        return Completion(
            text="".join(parts),
            model=model,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or len(parts)),
            elapsed_s=time.perf_counter() - start,
            extra={"finish_reason": finish, "streamed": True},
        )

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        """Yield text pieces from a server-sent-events stream; once ``cancel`` is cancelled the
        stream is closed at the next event and :class:`Cancelled` raised."""
        payload = self._payload(
            messages, schema=None, max_tokens=max_tokens, temperature=temperature, stream=True
        )
        for event in self._events(payload, self.timeout_s, cancel):
            text = self._delta(event).get("content")
            if text:
                yield text

    def _top_logprobs(self, body: dict[str, Any], chat: bool) -> dict[str, float]:
        """token -> log-probability of the first generated token, from either reply shape."""
        logprobs = body["choices"][0].get("logprobs")
        if not logprobs:
            raise LLMError(
                f"The model server at {self.base_url} sent no log-probabilities; it cannot score "
                "(use the embedded model, or a server with logprobs support)."
            )
        if chat:
            first = logprobs["content"][0]
            entries = first.get("top_logprobs") or [first]
            return {str(e["token"]): float(e["logprob"]) for e in entries}
        return {str(k): float(v) for k, v in logprobs["top_logprobs"][0].items()}

    @staticmethod
    def _option_logprobs(
        top: dict[str, float], options: Sequence[str]
    ) -> tuple[dict[str, float], list[str]]:
        """Per option, the summed probability of top tokens that spell it (spaces stripped);
        options absent from the top-k get the lowest value seen minus a margin."""
        floor = min(top.values(), default=0.0) - MISSING_MARGIN
        out: dict[str, float] = {}
        missing = []
        for option in options:
            hits = [lp for token, lp in top.items() if token.strip() == option.strip()]
            if hits:
                out[option] = float(np.logaddexp.reduce(hits))
            else:
                out[option] = floor
                missing.append(option)
        return out, missing

    def score_next_tokens(
        self,
        prefix: list[Message] | str,
        suffixes: Sequence[str],
        options: Sequence[str],
        *,
        timeout_s: float | None = None,
    ) -> OptionScores:
        """Top-20 next-token log-probabilities per suffix, mapped onto ``options``.

        Values are raw log-probabilities as the server reports them; an option outside the
        top 20 gets the lowest reported value minus :data:`MISSING_MARGIN` (listed in
        ``extra["missing"]``). Raises LLMError on any failure, on a server without logprobs,
        or when ``timeout_s`` runs out (checked between requests).
        """
        if not options or not suffixes:
            raise LLMError("Scoring needs at least one suffix and one option.")
        messages: list[dict[str, str]] | None = None
        if not isinstance(prefix, str):
            if not prefix or prefix[-1].role != "user":
                raise LLMError("Scoring needs chat messages that end with a user message.")
            messages = [{"role": m.role, "content": m.content} for m in prefix]
        start = time.perf_counter()
        budget = timeout_s if timeout_s is not None else self.timeout_s
        deadline = start + budget
        results: list[dict[str, float]] = []
        missing: list[list[str]] = []
        prompt_tokens = 0
        for k, suffix in enumerate(suffixes):
            left = deadline - time.perf_counter()
            if left <= 0:
                raise LLMError(
                    f"The model server at {self.base_url} did not finish scoring within "
                    f"{budget:.1f} s ({k} of {len(suffixes)} prompts scored)."
                )
            payload: dict[str, Any] = {
                "model": self.model,
                "max_tokens": 1,
                "temperature": 0.0,
                "stream": False,
            }
            if messages is not None:
                last = {**messages[-1], "content": messages[-1]["content"] + suffix}
                payload |= {
                    "messages": [*messages[:-1], last],
                    "logprobs": True,
                    "top_logprobs": TOP_LOGPROBS,
                }
                url = self.url
            else:
                payload |= {"prompt": f"{prefix}{suffix}", "logprobs": TOP_LOGPROBS}
                url = f"{self.base_url}/completions"
            try:
                response = self._client.post(url, json=payload, timeout=left)
            except httpx.HTTPError as exc:
                raise self._error(exc, budget) from None
            self._check_status(response)
            try:
                body = response.json()
                top = self._top_logprobs(body, chat=messages is not None)
            except LLMError:
                raise
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                raise LLMError(
                    f"The model server at {self.base_url} sent malformed log-probabilities "
                    f"({exc!s}); is it really OpenAI-compatible?"
                ) from None
            values, absent = self._option_logprobs(top, options)
            results.append(values)
            missing.append(absent)
            prompt_tokens += int((body.get("usage") or {}).get("prompt_tokens") or 0)
        return OptionScores(
            logprobs=results,
            model=self.model,
            prompt_tokens=prompt_tokens,
            evaluated_tokens=prompt_tokens,
            elapsed_s=time.perf_counter() - start,
            extra={"missing": missing},
        )
