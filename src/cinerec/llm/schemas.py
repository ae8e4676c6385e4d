"""Structured outputs: pydantic models and the JSON schemas sent to the model.

The schemas constrain generation (llama.cpp grammars, OpenAI ``json_schema``); the models parse
the reply. Parsing is lenient where it is safe (an over-long string is cut, a fit score outside
0-100 is clamped) because not every runtime enforces every keyword; ids are checked against the
candidates by the caller.

Example:
    >>> schema = rerank_schema([10, 20, 30], n=2)
    >>> schema["properties"]["items"]["items"]["properties"]["id"]["enum"]
    [10, 20, 30]
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cinerec.errors import LLMError

PERSONA_MAX_CHARS = 600  # room for the 64 words the persona grammar allows (llm.persona_pattern)
REASON_MAX_CHARS = 120

ModelT = TypeVar("ModelT", bound=BaseModel)


def _cut(value: object, limit: int) -> object:
    return value[:limit] if isinstance(value, str) else value


class PersonaOut(BaseModel):
    """The persona reply: ``{"persona": "..."}``."""

    model_config = ConfigDict(extra="forbid", title="persona")

    persona: str = Field(min_length=1, max_length=PERSONA_MAX_CHARS)

    @field_validator("persona", mode="before")
    @classmethod
    def _bound(cls, value: object) -> object:
        return _cut(value, PERSONA_MAX_CHARS)


class RerankItemOut(BaseModel):
    """One re-ranked candidate: its id, a 0-100 fit score and a one-sentence reason."""

    model_config = ConfigDict(extra="forbid", title="item")

    id: int
    fit: int = Field(ge=0, le=100)
    reason: str = Field(max_length=REASON_MAX_CHARS)

    @field_validator("fit", mode="before")
    @classmethod
    def _clamp(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(min(max(value, 0), 100))
        return value

    @field_validator("reason", mode="before")
    @classmethod
    def _bound(cls, value: object) -> object:
        return _cut(value, REASON_MAX_CHARS)


class RerankOut(BaseModel):
    """The re-rank reply: ``{"items": [...]}``, best first."""

    model_config = ConfigDict(extra="forbid", title="rerank")

    items: list[RerankItemOut]


class ReasonOut(BaseModel):
    """One card's reason: ``{"reason": "..."}``."""

    model_config = ConfigDict(extra="forbid", title="reason")

    reason: str = Field(min_length=1, max_length=REASON_MAX_CHARS)

    @field_validator("reason", mode="before")
    @classmethod
    def _bound(cls, value: object) -> object:
        return _cut(value, REASON_MAX_CHARS)


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(copy.deepcopy(defs[ref.rsplit("/", 1)[1]]), defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A self-contained JSON schema for ``model`` (``$defs`` inlined, titles and
    descriptions dropped).

    Inlining keeps the schema acceptable to every runtime (some grammar converters and strict
    OpenAI mode handle references poorly); docstrings and titles would only cost tokens. The
    top-level title stays: it names the OpenAI ``json_schema``.
    """
    raw = model.model_json_schema()
    schema = _inline_refs(raw, raw.get("$defs", {}))
    for obj in _objects(schema):
        obj.pop("description", None)
        if obj is not schema:
            obj.pop("title", None)
        for prop in obj.get("properties", {}).values():
            prop.pop("title", None)
    return schema


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def persona_schema() -> dict[str, Any]:
    """JSON schema of :class:`PersonaOut`."""
    return json_schema(PersonaOut)


def reason_schema() -> dict[str, Any]:
    """JSON schema of :class:`ReasonOut`."""
    return json_schema(ReasonOut)


def rerank_schema(candidate_ids: Sequence[int], *, n: int) -> dict[str, Any]:
    """JSON schema of :class:`RerankOut` for one request.

    Item ids are limited to ``candidate_ids`` with an ``enum`` and the list holds exactly
    ``min(n, len(candidate_ids))`` items (a schema cannot forbid duplicates; the caller removes
    them).
    """
    ids = [int(i) for i in dict.fromkeys(candidate_ids)]
    if not ids:
        raise ValueError("rerank_schema needs at least one candidate id")
    count = max(1, min(n, len(ids)))
    schema = json_schema(RerankOut)
    items = schema["properties"]["items"]
    items["minItems"] = count
    items["maxItems"] = count
    items["items"]["properties"]["id"] = {"type": "integer", "enum": ids}
    return schema


def _closers(prefix: str) -> str | None:
    """Brackets that close every ``{``/``[`` left open in ``prefix``; None inside a string."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in prefix:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                return None
            stack.pop()
    return None if in_string else "".join(reversed(stack))


def _salvage(text: str, model: type[ModelT], *, attempts: int = 40) -> ModelT | None:
    """Parse a reply cut off at ``max_tokens``: keep it up to its last complete object."""
    start = text.find("{")
    end = len(text)
    for _ in range(attempts):
        end = text.rfind("}", start, end)
        if end <= start:
            return None
        prefix = text[start : end + 1]
        closers = _closers(prefix)
        if closers is not None:
            try:
                return model.model_validate_json(prefix + closers)
            except ValidationError:
                pass
    return None


def parse_reply(text: str, model: type[ModelT]) -> ModelT:
    """Parse a model reply into ``model``.

    Tolerates prose or code fences around the JSON object, and a reply cut off at ``max_tokens``
    (kept up to its last complete inner object).

    Raises:
        LLMError: no valid JSON object of that shape in ``text``.
    """
    try:
        return model.model_validate_json(text)
    except ValidationError:
        pass
    start, end = text.find("{"), text.rfind("}")
    problem = "no JSON object"
    if 0 <= start < end:
        try:
            return model.model_validate_json(text[start : end + 1])
        except ValidationError as exc:
            problem = str(exc.errors()[0].get("msg", "invalid"))
    salvaged = _salvage(text, model)
    if salvaged is not None:
        return salvaged
    raise LLMError(
        f"The model reply does not match the {model.__name__} schema ({problem}): {text[:60]!r}"
    )
