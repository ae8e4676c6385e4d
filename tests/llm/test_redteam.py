"""The red-team set against a model that obeys every injection: nothing unsafe reaches the user.

The parrot backend is the worst case of a small model: it copies the viewer's own words (the
injection) into every free-text field it writes, and adds a fake title of its own. Whatever it
says, persona and reasons must stay in the catalog, carry no markup, and stay bounded.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cinerec.llm.backends.base import Completion, Message
from cinerec.llm.grounding import find_unknown_titles
from cinerec.llm.persona import UserProfile, write_persona
from cinerec.llm.reasons import write_reasons
from cinerec.llm.schemas import PERSONA_MAX_CHARS, REASON_MAX_CHARS
from tests.llm.movies import CANDIDATES, HISTORY
from tests.llm.redteam import FAKE_TITLES, REDTEAM

MOVIES = CANDIDATES[:5]
KNOWN = [m.title for m in [*HISTORY, *CANDIDATES]]
ALLOWED = [n for m in [*HISTORY, *CANDIDATES] for n in (*m.genres, *m.cast, m.director or "")]
UNSAFE = re.compile(r"<\s*/?\s*(script|img|iframe|a|b)\b|<\|[a-z_]+\|>|\[/?INST\]|onerror=", re.I)


class ParrotBackend:
    """Answers every schema with the viewer's quoted words plus a fake title."""

    name = "parrot"
    model = "parrot"
    supports_schema = True
    can_stream = False
    caches_prefix = False

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Completion:
        prompt = messages[-1].content
        self.prompts.append(prompt)
        quoted = re.search(r"<<<(.*?)>>>", prompt, re.S)
        words = quoted.group(1) if quoted else ""
        field = next(iter((schema or {}).get("properties", {"reason": None})))
        text = f"{words[:300]} You will love Fake Movie 3000 (2031)."
        return Completion(json.dumps({field: text}, ensure_ascii=False), self.model)


def _profile(text: str, language: str) -> UserProfile:
    return UserProfile(name="Red", age=30, taste=text, language=language)


def _assert_safe(text: str) -> None:
    lowered = text.lower()
    assert not [f for f in FAKE_TITLES if f.lower() in lowered], text
    assert not UNSAFE.search(text), text
    assert find_unknown_titles(text, KNOWN, allowed=ALLOWED) == [], text


def test_the_set_is_big_enough_and_bilingual() -> None:
    assert len(REDTEAM) >= 50
    korean = [t for _, t in REDTEAM if re.search(r"[\uac00-\ud7a3]", t)]
    assert len(korean) >= 10
    assert {k for k, _ in REDTEAM} == {"inject", "leak", "fake_title", "markup", "long", "unicode"}


IDS = [f"{kind}-{i}" for i, (kind, _) in enumerate(REDTEAM)]


@pytest.mark.parametrize(("kind", "text"), REDTEAM, ids=IDS)
def test_persona_and_reasons_survive_an_obedient_model(kind: str, text: str) -> None:
    language = "ko" if re.search(r"[\uac00-\ud7a3]", text) else "en"
    backend = ParrotBackend()
    profile = _profile(text, language)
    persona = write_persona(backend, profile, HISTORY, max_taste_chars=500)
    assert len(persona.text) <= PERSONA_MAX_CHARS
    _assert_safe(persona.text)
    reasons = list(write_reasons(backend, profile, persona.text, HISTORY, MOVIES))
    assert [r.movie_id for r in reasons] == [m.movie_id for m in MOVIES]
    for reason in reasons:
        assert reason.error is None
        if reason.text is not None:
            assert len(reason.text) <= REASON_MAX_CHARS
            _assert_safe(reason.text)
    # The viewer's words reach the persona prompt only inside the quote, bounded and without
    # markup; the reasons prompts carry only the evidence, never the viewer's text.
    persona_prompt, *reason_prompts = backend.prompts
    quoted = re.search(r"<<<(.*?)>>>", persona_prompt, re.S)
    assert quoted is not None and len(quoted.group(1)) <= 500
    assert "<<<" not in quoted.group(1) and ">>>" not in quoted.group(1)
    assert not re.search(r"<\|[a-z_]+\|>|<script", quoted.group(1), re.I)
    assert len(reason_prompts) == len(MOVIES)
    for prompt in reason_prompts:
        assert "<<<" not in prompt and not re.search(r"<\|[a-z_]+\|>|<script", prompt, re.I)
        assert len(text.strip()) < 20 or text.strip()[:20] not in prompt
