"""Structured-output schemas and lenient, bounded parsing of replies."""

from __future__ import annotations

import json

import pytest

from cinerec.errors import LLMError
from cinerec.llm.schemas import (
    PERSONA_MAX_CHARS,
    REASON_MAX_CHARS,
    PersonaOut,
    RerankOut,
    parse_reply,
    persona_schema,
    rerank_schema,
)


def test_persona_schema_is_flat_and_strict() -> None:
    schema = persona_schema()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["required"] == ["persona"]
    assert schema["properties"]["persona"]["maxLength"] == PERSONA_MAX_CHARS == 600
    assert "$defs" not in json.dumps(schema) and "description" not in schema


def test_rerank_schema_constrains_ids_and_count() -> None:
    schema = rerank_schema([5, 3, 5, 9], n=2)
    items = schema["properties"]["items"]
    assert items["minItems"] == items["maxItems"] == 2
    item = items["items"]
    assert item["properties"]["id"] == {"type": "integer", "enum": [5, 3, 9]}
    assert item["properties"]["reason"]["maxLength"] == REASON_MAX_CHARS
    assert item["properties"]["fit"]["maximum"] == 100
    assert set(item["required"]) == {"id", "fit", "reason"}
    assert "$ref" not in json.dumps(schema)
    assert rerank_schema([1, 2], n=10)["properties"]["items"]["maxItems"] == 2
    with pytest.raises(ValueError):
        rerank_schema([], n=3)


def test_parse_is_lenient_where_safe() -> None:
    reply = parse_reply(
        'Sure! ```json\n{"items": [{"id": 1, "fit": 250, "reason": "' + "x" * 300 + '"}]}\n```',
        RerankOut,
    )
    assert reply.items[0].fit == 100
    assert len(reply.items[0].reason) == REASON_MAX_CHARS
    assert parse_reply('{"persona": "' + "y" * 900 + '"}', PersonaOut).persona == "y" * 600


def test_reply_cut_at_max_tokens_keeps_complete_items() -> None:
    cut = '{"items": [{"id": 1, "fit": 90, "reason": "A {brace} in text."}, {"id": 2, "fit": 8'
    reply = parse_reply(cut, RerankOut)
    assert [i.id for i in reply.items] == [1]
    assert reply.items[0].reason == "A {brace} in text."


@pytest.mark.parametrize(
    "text",
    ["", "no json here", '{"persona": 3}', '{"items": [{"id": "abc"}]}', '{"persona": ""}'],
)
def test_junk_is_an_llm_error(text: str) -> None:
    with pytest.raises(LLMError):
        parse_reply(text, PersonaOut if "items" not in text else RerankOut)
