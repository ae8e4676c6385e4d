"""The behaviour every language-model backend must have; each backend's tests subclass it.

A subclass provides the ``backend`` fixture and the ``arrange_*`` hooks that make the next call
behave as the test needs (queue a reply, switch the stub server's mode, or nothing at all for a
real model), names the class it checks in ``backend_class`` and, for a backend cinerec ships,
its entry in ``registry_name`` (``gate`` for the priority-gate wrapper):
``tests/architecture/test_registry_contracts.py`` requires one contract per entry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, LLMBackend, Message
from cinerec.llm.schemas import RerankOut, rerank_schema

PROMPT = [
    Message("system", "You rank movies. Answer with JSON."),
    Message("user", "Candidates: 7 Heat (1995); 8 Toy Story (1995); 9 Alien (1979). Pick 2."),
]
CANDIDATE_IDS = [7, 8, 9]
VALID_REPLY = {
    "items": [
        {"id": 7, "fit": 90, "reason": "Crime thriller."},
        {"id": 9, "fit": 60, "reason": "Tense."},
    ]
}


class BackendContract:
    """Shared tests; see the module docstring."""

    registry_name: str | None = None
    """The entry of the family's registry this suite checks (None: a test double)."""

    timeout_s: float = 60.0
    backend_class: type | None = None

    @pytest.fixture
    def backend(self) -> LLMBackend:
        raise NotImplementedError

    def arrange_reply(self, backend: Any, reply: dict[str, Any]) -> None:
        """Make the next ``complete`` answer ``reply`` (real models ignore this)."""

    def arrange_stream(self, backend: Any, text: str) -> None:
        """Make the next ``stream`` yield ``text``."""

    def arrange_timeout(self, backend: Any) -> tuple[float, int]:
        """Make the next call too slow; return (timeout_s, max_tokens) to call with."""
        raise NotImplementedError

    def broken_backend(self, backend: Any) -> Any:
        """A backend of the same kind whose next ``complete`` fails."""
        raise NotImplementedError

    def test_implements_protocol(self, backend: LLMBackend) -> None:
        assert isinstance(backend, LLMBackend)
        assert isinstance(backend.name, str) and backend.name
        assert isinstance(backend.model, str) and backend.model
        assert backend.supports_schema is True
        assert backend.can_stream is True
        assert isinstance(backend.caches_prefix, bool)
        if self.backend_class is not None:
            assert isinstance(backend, self.backend_class)

    def test_counts_tokens(self, backend: LLMBackend) -> None:
        short = backend.count_tokens("Heat")
        long = backend.count_tokens("Heat (1995) is a crime thriller by Michael Mann. " * 4)
        assert isinstance(short, int) and isinstance(long, int)
        assert 0 < short < long
        assert backend.count_tokens("") >= 0

    def test_schema_constrained_reply_parses(self, backend: LLMBackend) -> None:
        self.arrange_reply(backend, VALID_REPLY)
        schema = rerank_schema(CANDIDATE_IDS, n=2)
        completion = backend.complete(
            PROMPT, schema=schema, max_tokens=120, temperature=0.0, timeout_s=self.timeout_s
        )
        assert isinstance(completion, Completion)
        parsed = RerankOut.model_validate_json(completion.text)
        assert len(parsed.items) == 2
        assert {item.id for item in parsed.items} <= set(CANDIDATE_IDS)
        assert completion.model
        assert completion.elapsed_s >= 0.0
        json.loads(completion.text)  # really JSON, not just pydantic-tolerable

    def test_stream_yields_text(self, backend: LLMBackend) -> None:
        self.arrange_stream(backend, "Heat is a crime thriller.")
        pieces = list(backend.stream(PROMPT, max_tokens=12))
        assert pieces, "stream yielded nothing"
        assert all(isinstance(p, str) and p for p in pieces)
        assert "".join(pieces).strip()

    def test_timeout_raises_llm_error(self, backend: LLMBackend) -> None:
        timeout_s, max_tokens = self.arrange_timeout(backend)
        with pytest.raises(LLMError, match=r"(?i)within|timed out"):
            backend.complete(PROMPT, max_tokens=max_tokens, timeout_s=timeout_s)

    def test_failure_raises_llm_error(self, backend: LLMBackend) -> None:
        broken = self.broken_backend(backend)
        with pytest.raises(LLMError):
            broken.complete(PROMPT, max_tokens=8, timeout_s=self.timeout_s)

    def test_usable_after_a_failure(self, backend: LLMBackend) -> None:
        timeout_s, max_tokens = self.arrange_timeout(backend)
        with pytest.raises(LLMError):
            backend.complete(PROMPT, max_tokens=max_tokens, timeout_s=timeout_s)
        self.arrange_reply(backend, VALID_REPLY)
        completion = backend.complete(
            PROMPT,
            schema=rerank_schema(CANDIDATE_IDS, n=2),
            max_tokens=120,
            timeout_s=self.timeout_s,
        )
        assert RerankOut.model_validate_json(completion.text).items
