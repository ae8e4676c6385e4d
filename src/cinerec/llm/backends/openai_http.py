"""A model server speaking the OpenAI chat-completions protocol (Ollama, vLLM, llama.cpp, OpenAI).

``complete`` posts to ``{base_url}/chat/completions``; a JSON schema goes out as an OpenAI
``json_schema`` response format. ``stream`` reads server-sent events (``data:`` lines ending with
``[DONE]``). Every failure becomes :class:`cinerec.errors.LLMError`; messages never contain the
API key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, Message


class OpenAICompatibleBackend:
    """Client for any OpenAI-compatible chat-completions endpoint.

    Args:
        base_url: Endpoint root including the version, e.g. ``http://127.0.0.1:11434/v1``.
        model: Model name the server knows, e.g. ``qwen2.5:1.5b-instruct``.
        api_key: Bearer token; empty for local servers.
        timeout_s: Default per-request timeout (connect and each read).

    Example:
        >>> b = OpenAICompatibleBackend("http://127.0.0.1:11434/v1", "qwen2.5:1.5b-instruct")
        >>> b.supports_schema
        True
    """

    name = "openai"
    supports_schema = True
    can_stream = True

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 90.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self._api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, transport=transport)

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
        if schema is not None:
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
    ) -> Completion:
        """POST one chat completion and return its first choice."""
        timeout = timeout_s if timeout_s is not None else self.timeout_s
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

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Iterator[str]:
        """Yield text pieces from a server-sent-events stream."""
        payload = self._payload(
            messages, schema=None, max_tokens=max_tokens, temperature=temperature, stream=True
        )
        try:
            with self._client.stream(
                "POST", self.url, json=payload, timeout=self.timeout_s
            ) as response:
                self._check_status(response)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        return
                    try:
                        delta = json.loads(data)["choices"][0].get("delta") or {}
                    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                        raise LLMError(
                            f"The model server at {self.base_url} sent a malformed stream event; "
                            "is it really OpenAI-compatible?"
                        ) from None
                    text = delta.get("content")
                    if text:
                        yield text
        except httpx.HTTPError as exc:
            raise self._error(exc, self.timeout_s) from None
