"""OpenAICompatibleBackend against llama.cpp's own ``llama-server``, with parallel slots.

The server is the binary ``scripts/build-llama-server.sh`` builds (or one on ``PATH``), started
on the smallest embedded model (SmolLM2-135M, one thread, two slots) and sent JSON schemas the
way the web app sends them to it (``CINEREC_OPENAI_SCHEMA_FORMAT=json_schema``). The tests
check that llama-server turns the product's schemas, ``pattern`` included, into a grammar and
keeps to it: every reply must match the pattern, which a model left free does not. Skipped,
with the reason, only when no llama-server binary exists (CI does not build it).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cinerec.config import Settings
from cinerec.llm import persona, reasons
from cinerec.llm.backends.base import Message
from cinerec.llm.backends.cancel import Cancelled, CancelToken
from cinerec.llm.backends.openai_http import OpenAICompatibleBackend
from cinerec.llm.persona_pattern import persona_max_tokens, persona_pattern
from cinerec.llm.schemas import RerankOut, parse_reply, rerank_schema
from cinerec.llm.server import (
    SCHEMA_FORMATS,
    RunningServer,
    ServerSpec,
    free_port,
    llama_server_binary,
    running_server,
)
from tests.llm.backends.contract import BackendContract

pytestmark = pytest.mark.slow

ALIAS = "smollm2-135m"
SLOTS = 2


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llama-server") / "server.log"


@pytest.fixture(scope="module")
def server(smallest_model_path: Path, server_log: Path) -> Iterator[Any]:
    cache_dir = Settings(llm_backend="none").cache_dir
    if llama_server_binary(cache_dir=cache_dir) is None:
        pytest.skip(
            "llama-server is not built: run scripts/build-llama-server.sh (CI does not build it)"
        )
    spec = ServerSpec(
        smallest_model_path,
        ALIAS,
        port=0,
        parallel=SLOTS,
        n_ctx=2048,
        threads=1,
        runtime="llama-server",
        cache_dir=cache_dir,
    )
    with running_server(spec, timeout_s=120, log_path=server_log) as running:
        yield running


def _client(server: RunningServer, **kw: Any) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(
        server.base_url, ALIAS, timeout_s=120.0, schema_format=SCHEMA_FORMATS["llama-server"], **kw
    )


def _field(
    server: RunningServer,
    schema: dict[str, Any],
    prompt: str,
    max_tokens: int,
    cancel: CancelToken | None = None,
) -> str:
    completion = _client(server).complete(
        [Message("user", prompt)], schema=schema, max_tokens=max_tokens, cancel=cancel
    )
    data = json.loads(completion.text)  # the grammar's trailing whitespace may use up max_tokens
    (value,) = data.values()
    return str(value)


class TestLlamaServerContract(BackendContract):
    backend_class = OpenAICompatibleBackend

    @pytest.fixture
    def backend(self, server: RunningServer) -> OpenAICompatibleBackend:
        return _client(server)

    def arrange_timeout(self, backend: Any) -> tuple[float, int]:
        return 0.02, 400

    def broken_backend(self, backend: Any) -> OpenAICompatibleBackend:
        return OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}/v1", ALIAS, timeout_s=5)


def test_it_is_llama_server_with_the_slots_asked_for(server: RunningServer) -> None:
    assert server.runtime == "llama-server"
    props = httpx.get(server.base_url.removesuffix("/v1") + "/props", timeout=10).json()
    assert props["total_slots"] == SLOTS


def test_a_pattern_the_model_would_never_write_is_kept(server: RunningServer) -> None:
    """Proof that the pattern is enforced, not dropped: nothing in the prompt asks for it."""
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^[0-9]{3}-[q-z]{2}$"}},
        "required": ["code"],
    }
    code = _field(server, schema, "Write a short poem about the sea.", 32)
    assert re.fullmatch(r"[0-9]{3}-[q-z]{2}", code), code


@pytest.mark.parametrize("cancellable", [False, True], ids=["plain", "streamed-with-token"])
@pytest.mark.parametrize("language", ["en", "ko"])
def test_reasons_keep_their_one_sentence_pattern(
    server: RunningServer, language: str, cancellable: bool
) -> None:
    """Page reasons carry the page's deadline as a cancel token, and a call with a token is
    streamed: llama-server must keep the pattern on that path too."""
    schema = reasons._schema(language)
    pattern = schema["properties"]["reason"]["pattern"]
    prompt = 'Why would a fan of crime films like Heat (1995)? Answer as {"reason": "..."}'
    # room for the longest sentence the pattern allows (its most words, each at its longest,
    # with three separators): SmolLM spends 3 tokens on a syllable
    longest = reasons._WORDS[language][1] * (reasons._WORD_CHARS + 3)
    cancel = CancelToken.after(300.0) if cancellable else None
    reason = _field(server, schema, prompt, 3 * longest + 20, cancel=cancel)
    assert re.fullmatch(pattern, reason), reason


@pytest.mark.parametrize("language", ["en", "ko"])
def test_personas_keep_the_persona_pattern(server: RunningServer, language: str) -> None:
    schema = persona._schema(language)
    assert schema["properties"]["persona"]["pattern"] == persona_pattern(language)
    prompt = 'Describe a viewer who loves crime films. Answer as {"persona": "..."}'
    text = _field(server, schema, prompt, persona_max_tokens(language))
    # (llama.cpp's converter reads the pattern and ignores minLength beside it; the product's
    # repair_persona checks the length)
    assert re.fullmatch(persona_pattern(language), text), text


def test_rerank_ids_come_from_the_candidates(server: RunningServer) -> None:
    candidates = [11, 22, 33, 44]
    prompt = "Pick the two best movies of 11, 22, 33, 44, with a fit score and a reason each."
    completion = _client(server).complete(
        [Message("user", prompt)], schema=rerank_schema(candidates, n=2), max_tokens=400
    )
    reply = parse_reply(completion.text, RerankOut)
    assert len(reply.items) == 2 and {i.id for i in reply.items} <= set(candidates), reply


def test_scores_next_tokens_from_the_servers_logprobs(server: RunningServer) -> None:
    prefix = [Message("user", "Is Heat (1995) a crime movie? Answer Yes or No.")]
    scored = _client(server).score_next_tokens(prefix, ["", " Think first."], ["Yes", "No"])
    assert len(scored.logprobs) == 2
    assert all(v <= 0 for lp in scored.logprobs for v in lp.values())


def test_two_slots_answer_two_requests_at_once(server: RunningServer) -> None:
    """Both requests are in a slot together (llama-server's /slots shows them processing)."""
    prompt = [Message("user", "Count from one to fifty in words.")]
    replies: list[str] = []
    busy: list[int] = []

    def ask() -> None:
        replies.append(_client(server).complete(prompt, max_tokens=160).text)

    threads = [threading.Thread(target=ask) for _ in range(SLOTS)]
    for t in threads:
        t.start()
    root = server.base_url.removesuffix("/v1")
    while any(t.is_alive() for t in threads):
        slots = httpx.get(f"{root}/slots", timeout=10).json()
        busy.append(sum(1 for s in slots if s.get("is_processing")))
    for t in threads:
        t.join(120)
    assert len(replies) == SLOTS and all(r.strip() for r in replies)
    assert max(busy) == SLOTS, busy


def test_a_cancelled_stream_frees_its_slot(server: RunningServer) -> None:
    """Closing the stream stops llama-server's generation: its /slots shows no slot processing
    within 2 s of the cancel; the 397 tokens left would take SmolLM2 several seconds."""
    essay = [
        Message("user", "Write a long essay about the history of cinema, at least 1000 words.")
    ]
    root = server.base_url.removesuffix("/v1")
    cancel = CancelToken()
    pieces = _client(server).stream(essay, max_tokens=400, cancel=cancel)
    got = [next(pieces) for _ in range(3)]
    cancel.cancel("the client disconnected")
    with pytest.raises(Cancelled):
        got.extend(pieces)
    stopped = time.monotonic()
    busy = 1
    while busy and time.monotonic() - stopped < 2.0:
        busy = sum(1 for s in httpx.get(f"{root}/slots", timeout=10).json() if s["is_processing"])
        time.sleep(0.05)
    assert busy == 0 and len(got) <= 4, (busy, got)


def test_no_schema_was_loosened(server: RunningServer, server_log: Path) -> None:
    """llama.cpp turns a pattern it cannot convert into "any string", with only a warning in its
    log; after the tests above sent every product schema, the log has none."""
    log = server_log.read_text(errors="replace")
    assert "listening on" in log and "print_timing" in log  # the server's, after requests
    assert "conversion was incomplete" not in log and "not supported" not in log, log[-2000:]


def test_a_cards_reason_keeps_its_watched_clause_pattern(server: RunningServer) -> None:
    """The card's grammar (a ticked title's last word before "which you watched", banned
    openings) goes through llama-server's converter and is kept."""
    from cinerec.data.types import Movie
    from cinerec.llm.evidence import build_evidence

    card = Movie(4226, "Memento", 2000, ("Mystery", "Thriller"), keywords=("amnesia",))
    ticked = [Movie(1, "Shutter Island", 2010, ("Drama", "Mystery", "Thriller"))]
    schema = reasons.card_schema("en", build_evidence(card, ticked), ticked)
    pattern = schema["properties"]["reason"]["pattern"]
    prompt = 'Why would a fan of Shutter Island like Memento? Answer as {"reason": "..."}'
    longest = reasons._WORDS["en"][1] * (reasons._WORD_CHARS + 3)
    reason = _field(server, schema, prompt, 3 * longest + 20)
    assert re.fullmatch(pattern, reason), reason


def test_a_list_answer_keeps_every_citation(server: RunningServer) -> None:
    from cinerec.llm.chat.phrase import cited_schema

    refs = ["Christopher Nolan", "Memento (2000) [#1]", "Inception (2010) [#2]"]
    schema = cited_schema(refs, opening=0)
    prompt = 'Which movies did Christopher Nolan direct? Answer as {"answer": "..."}'
    answer = _field(server, schema, prompt, 160)
    assert re.fullmatch(schema["properties"]["answer"]["pattern"], answer), answer
    assert answer.startswith("Christopher Nolan") and "Inception" in answer
