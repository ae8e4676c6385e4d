"""A tiny OpenAI chat-completions server on a real 127.0.0.1 socket, for backend tests.

Modes: ``json`` (answer with ``content``), ``slow`` (wait ``slow_s`` first), ``malformed`` (a 200
response that is not JSON), ``error`` (HTTP 500 whose body echoes the Authorization header, so
tests can check the key never reaches an error message). A request with ``"stream": true`` gets
server-sent events in three pieces followed by ``data: [DONE]``; in mode ``drip`` it gets one
word of the content every ``drip_s`` seconds instead, and ``drip_sent`` counts the events
written before the client closed the connection (``drip_closed`` is set then).

Scoring requests (``max_tokens: 1`` with ``logprobs``) are answered on ``/v1/chat/completions``
(``logprobs.content[0].top_logprobs``) and on the legacy ``/v1/completions``
(``logprobs.top_logprobs[0]``) from ``top_logprobs``: a dict token -> log-probability, or a
function of the prompt text (the last message's content for chat) returning one. Mode
``nologprobs`` answers without log-probabilities, as a server without support does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubServer(ThreadingHTTPServer):
    """Holds the mode, the reply content and every request received."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "json"
        self.content = '{"ok": true}'
        self.slow_s = 2.0
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.top_logprobs: dict[str, float] | Callable[[str], dict[str, float]] = {
            "Yes": -0.2,
            "No": -1.8,
        }
        self.paths: list[str] = []
        self.drip_s = 0.05
        self.drip_sent = 0
        self.drip_closed = threading.Event()

    def top_for(self, prompt: str) -> dict[str, float]:
        """The top log-probabilities to send for ``prompt``."""
        top = self.top_logprobs
        return top(prompt) if callable(top) else dict(top)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def set(self, mode: str, content: str | None = None) -> None:
        """Switch the mode (and the reply content); also resets ``top_logprobs``."""
        self.mode = mode
        self.top_logprobs = {"Yes": -0.2, "No": -1.8}
        if content is not None:
            self.content = content


class _Handler(BaseHTTPRequestHandler):
    server: StubServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        server = self.server
        server.requests.append(payload)
        server.headers_seen.append(dict(self.headers))
        server.paths.append(self.path)
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            self._send(404, b'{"error": "not found"}')
            return
        try:
            if server.mode == "slow":
                time.sleep(server.slow_s)
            if server.mode == "error":
                auth = self.headers.get("Authorization", "")
                self._send(500, json.dumps({"error": f"boom (you sent {auth})"}).encode())
            elif server.mode == "malformed":
                self._send(200, b"<html>not json</html>", "text/html")
            elif payload.get("stream") and server.mode == "drip":
                self._drip(server.content)
            elif payload.get("stream"):
                self._stream(server.content)
            elif self.path == "/v1/completions":
                self._send(200, json.dumps(self._legacy_completion(payload)).encode())
            elif payload.get("logprobs") and server.mode != "nologprobs":
                self._send(200, json.dumps(self._chat_logprobs(payload)).encode())
            else:
                body = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "model": payload.get("model", "stub"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": server.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
                }
                self._send(200, json.dumps(body).encode())
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            return

    def _chat_logprobs(self, payload: dict[str, Any]) -> dict[str, Any]:
        top = self.server.top_for(payload["messages"][-1]["content"])
        top = dict(list(top.items())[: int(payload.get("top_logprobs") or 1)])
        best = max(top, key=lambda t: top[t])
        entries = [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top.items()]
        first = {"token": best, "logprob": top[best], "top_logprobs": entries}
        return {
            "object": "chat.completion",
            "model": payload.get("model", "stub"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": best},
                    "logprobs": {"content": [first]},
                    "finish_reason": "length",
                }
            ],
            "usage": {"prompt_tokens": 30, "completion_tokens": 1, "total_tokens": 31},
        }

    def _legacy_completion(self, payload: dict[str, Any]) -> dict[str, Any]:
        top = self.server.top_for(str(payload.get("prompt", "")))
        top = dict(list(top.items())[: int(payload.get("logprobs") or 1)])
        best = max(top, key=lambda t: top[t])
        choice: dict[str, Any] = {"index": 0, "text": best, "finish_reason": "length"}
        if self.server.mode != "nologprobs":
            choice["logprobs"] = {
                "tokens": [best],
                "token_logprobs": [top[best]],
                "top_logprobs": [top],
            }
        return {
            "object": "text_completion",
            "model": payload.get("model", "stub"),
            "choices": [choice],
            "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
        }

    def _stream(self, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        step = max(1, len(text) // 3)
        for i in range(0, len(text), step):
            chunk = {"choices": [{"index": 0, "delta": {"content": text[i : i + step]}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _drip(self, text: str) -> None:
        server = self.server
        assert isinstance(server, StubServer)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        server.drip_sent = 0
        server.drip_closed.clear()
        try:
            for word in text.split(" "):
                chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                server.drip_sent += 1
                time.sleep(server.drip_s)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except OSError:  # the client closed the connection: stop generating, as servers do
            server.drip_closed.set()
            self.close_connection = True


@contextmanager
def running_stub() -> Iterator[StubServer]:
    """Start a stub server in a thread; stop it on exit."""
    server = StubServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
