"""OpenAICompatibleBackend against a real llama.cpp model server on 127.0.0.1.

The server is llama-cpp-python's (the ``server`` extra, which the ``test`` extra installs),
started as a subprocess on the smallest embedded model (SmolLM2-135M, one thread). The same
backend serves llama.cpp's ``llama-server`` and vLLM.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cinerec.llm.backends.base import Message
from cinerec.llm.backends.cancel import Cancelled, CancelToken
from cinerec.llm.backends.gate import GatedBackend, Priority, PriorityGate
from cinerec.llm.backends.openai_http import OpenAICompatibleBackend
from cinerec.llm.schemas import persona_schema
from cinerec.llm.server import (
    RunningServer,
    ServerSpec,
    free_port,
    python_server_available,
    running_server,
)
from tests.llm.backends.contract import BackendContract

pytestmark = pytest.mark.slow

ALIAS = "smollm2-135m"


@pytest.fixture(scope="module")
def server(smallest_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not python_server_available():
        pytest.skip(
            "llama-cpp-python's server extra is not installed "
            "(pip install 'llama-cpp-python[server]==0.3.36'; the test extra brings it)"
        )
    spec = ServerSpec(smallest_model_path, ALIAS, port=0, n_ctx=1024, threads=1, runtime="python")
    log = tmp_path_factory.mktemp("server") / "server.log"
    with running_server(spec, timeout_s=180, log_path=log) as running:
        yield running


def _client(server: RunningServer, **kw: Any) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(
        server.base_url, ALIAS, timeout_s=60.0, schema_format="json_object", **kw
    )


class TestLlamaCppServerContract(BackendContract):
    backend_class = OpenAICompatibleBackend

    @pytest.fixture
    def backend(self, server: RunningServer) -> OpenAICompatibleBackend:
        return _client(server)

    def arrange_timeout(self, backend: Any) -> tuple[float, int]:
        return 0.05, 200

    def broken_backend(self, backend: Any) -> OpenAICompatibleBackend:
        return OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}/v1", ALIAS, timeout_s=5)


def test_the_server_is_the_python_one_and_names_the_model(server: RunningServer) -> None:
    assert server.runtime == "python"
    completion = _client(server).complete([Message("user", "Say hi.")], max_tokens=8)
    assert completion.text.strip()
    assert completion.prompt_tokens > 0 and 0 < completion.completion_tokens <= 8


def test_schema_constrained_completion_is_valid_json(server: RunningServer) -> None:
    messages = [Message("user", 'Describe a fan of crime movies. Answer as {"persona": "..."}')]
    completion = _client(server).complete(messages, schema=persona_schema(), max_tokens=160)
    data = json.loads(completion.text)
    assert set(data) == {"persona"} and isinstance(data["persona"], str)


def test_stream_arrives_in_pieces(server: RunningServer) -> None:
    pieces = list(_client(server).stream([Message("user", "Count to ten.")], max_tokens=24))
    assert len(pieces) > 3, pieces
    assert "".join(pieces).strip()


def test_scores_next_tokens_from_the_servers_logprobs(server: RunningServer) -> None:
    prefix = [Message("user", "Is Heat (1995) a crime movie? Answer Yes or No.")]
    scored = _client(server).score_next_tokens(prefix, ["", " Think first."], ["Yes", "No"])
    assert len(scored.logprobs) == 2
    assert all(math.isfinite(v) and v <= 0 for lp in scored.logprobs for v in lp.values())


def test_a_page_call_behind_the_gate_goes_before_a_waiting_warmup(server: RunningServer) -> None:
    """Two warm-ups and a page reason against the real server: the page is served second."""
    gate = PriorityGate(1, {Priority.WARMUP: 60, Priority.PAGE: 60})
    base = GatedBackend(_client(server), gate)
    done: list[str] = []
    prompt = [Message("user", "Write one sentence about Heat (1995).")]

    def call(priority: Priority, name: str) -> None:
        base.at(priority).complete(prompt, max_tokens=48, timeout_s=60)
        done.append(name)

    first = threading.Thread(target=call, args=(Priority.WARMUP, "warmup 1"))
    first.start()
    while gate.busy == 0:
        time.sleep(0.01)
    threads = [threading.Thread(target=call, args=(Priority.WARMUP, "warmup 2"))]
    threads[0].start()
    while gate.waiting < 1:
        time.sleep(0.01)
    threads.append(threading.Thread(target=call, args=(Priority.PAGE, "page")))
    threads[1].start()
    for t in [first, *threads]:
        t.join(120)
    assert done == ["warmup 1", "page", "warmup 2"]


def test_a_cancelled_stream_frees_the_server_for_the_next_request(server: RunningServer) -> None:
    """The server serves one request at a time: if closing the stream did not stop the long
    generation, the next request would wait for the rest of it."""
    client = _client(server)
    count = [
        Message("user", "Write a long essay about the history of cinema, at least 1000 words.")
    ]
    start = time.monotonic()
    full = client.complete(count, max_tokens=160)
    full_s = time.monotonic() - start
    assert full.completion_tokens >= 120, "the uncancelled run must be long to compare with"

    cancel = CancelToken()
    pieces = client.stream(count, max_tokens=160, cancel=cancel)
    got = [next(pieces) for _ in range(3)]
    cancel.cancel("the client disconnected")
    cancelled_at = time.monotonic()
    with pytest.raises(Cancelled):
        got.extend(pieces)
    after = client.complete([Message("user", "Say hi.")], max_tokens=4)
    next_s = time.monotonic() - cancelled_at
    assert after.text.strip() and len(got) <= 4
    assert next_s < full_s / 2, (next_s, full_s)
