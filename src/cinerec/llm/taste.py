"""Statement understanding: one schema-constrained call turns a taste sentence into fields.

The sentence ("slow-burn sci-fi and clever heist thrillers, no horror", or the same in
Korean) becomes a :class:`StructuredTaste` (liked and disliked genres from the MovieLens
list, English keywords, people, eras, moods). Results are cached per sentence
(:class:`TasteCache`, a JSON file keyed by the sentence's sha256), so a sentence costs one
call the first time it is seen and nothing afterwards. A failed call gives an empty taste
flagged ``error``; it never raises.

Example:
    >>> taste = understand_taste(backend, "공포 말고 SF, 1990년대 영화")  # doctest: +SKIP
    >>> taste.liked_genres, taste.disliked_genres, taste.eras  # doctest: +SKIP
    (['Sci-Fi'], ['Horror'], ['1990s'])
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cinerec.errors import LLMError
from cinerec.llm.backends.base import LLMBackend, Message
from cinerec.llm.schemas import json_schema
from cinerec.llm.templates import render
from cinerec.text.taste import GENRES

_MAX_ITEMS = 6
_MAX_CHARS = 40


def _clean_list(value: object) -> object:
    if not isinstance(value, list):
        return value
    out: list[str] = []
    for v in value:
        if isinstance(v, str) and v.strip() and v.strip() not in out:
            out.append(v.strip()[:_MAX_CHARS])
    return out[:_MAX_ITEMS]


class StructuredTaste(BaseModel):
    """What the viewer asked for, in catalog terms."""

    model_config = ConfigDict(extra="forbid", title="taste")

    liked_genres: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    disliked_genres: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    keywords: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    people: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    eras: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    moods: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)

    @field_validator("*", mode="before")
    @classmethod
    def _bounded(cls, value: object) -> object:
        return _clean_list(value)

    @field_validator("liked_genres", "disliked_genres")
    @classmethod
    def _known_genres(cls, value: list[str]) -> list[str]:
        folded = {g.casefold(): g for g in GENRES}
        return [folded[v.casefold()] for v in value if v.casefold() in folded]

    def decades(self) -> list[int]:
        """The eras as decades (``"1990s"``, ``"90s"``, ``"1990년대"`` -> 1990)."""
        out = []
        for era in self.eras:
            match = re.search(r"(\d{2,4})", era)
            if match:
                year = int(match.group(1))
                year = year + 1900 if year < 100 and year >= 20 else year
                year = year + 2000 if year < 20 else year
                out.append(year // 10 * 10)
        return out


def taste_schema() -> dict[str, Any]:
    """JSON schema of :class:`StructuredTaste`; genre items are constrained to the MovieLens
    genres and every list to a few items, so the grammar cannot wander."""
    schema = json_schema(StructuredTaste)
    for name, prop in schema["properties"].items():
        prop.pop("default", None)
        prop["maxItems"] = 4
        if name.endswith("genres"):
            prop["items"] = {"type": "string", "enum": list(GENRES)}
    schema["required"] = list(schema["properties"])
    return schema


def sentence_key(text: str) -> str:
    """Cache key of a sentence."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:20]


def understand_taste(
    backend: LLMBackend, text: str, *, timeout_s: float | None = None
) -> tuple[StructuredTaste, str | None]:
    """One call: ``text`` -> (structured taste, error or None). Never raises."""
    messages = [
        Message("system", render("taste_system", genres=", ".join(GENRES))),
        Message("user", render("taste_user", statement=text.strip()[:600])),
    ]
    try:
        completion = backend.complete(
            messages,
            schema=taste_schema() if backend.supports_schema else None,
            max_tokens=160,
            temperature=0.0,
            timeout_s=timeout_s,
        )
        return StructuredTaste.model_validate_json(completion.text), None
    except (LLMError, ValidationError, ValueError) as exc:
        return StructuredTaste(), f"{type(exc).__name__}: {str(exc)[:200]}"


class TasteCache:
    """Structured tastes by sentence, kept in one JSON file (``{key: {"text", "taste", ...}}``).

    The file is read at construction and written by :meth:`save`; :meth:`get_or_parse` calls
    the model only for a sentence it has not seen.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[str, dict[str, Any]] = {}
        if path is not None and path.exists():
            self._entries = json.loads(path.read_text(encoding="utf-8"))["entries"]

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and sentence_key(text) in self._entries

    def get(self, text: str) -> StructuredTaste | None:
        """The cached taste of ``text``, or None."""
        entry = self._entries.get(sentence_key(text))
        return StructuredTaste.model_validate(entry["taste"]) if entry else None

    def get_or_parse(
        self, backend: LLMBackend, text: str, *, timeout_s: float | None = None
    ) -> StructuredTaste:
        """The cached taste, or one model call (its result and time are cached)."""
        cached = self.get(text)
        if cached is not None:
            return cached
        started = time.perf_counter()
        taste, error = understand_taste(backend, text, timeout_s=timeout_s)
        self._entries[sentence_key(text)] = {
            "text": text,
            "taste": taste.model_dump(),
            "error": error,
            "seconds": round(time.perf_counter() - started, 3),
            "model": backend.model,
        }
        return taste

    def entries(self) -> Mapping[str, dict[str, Any]]:
        """Every cached entry (read-only view)."""
        return dict(self._entries)

    def save(self) -> None:
        """Write the cache file (sorted, so reruns give the same bytes)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"entries": dict(sorted(self._entries.items()))}
        self.path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", "utf-8")
