"""One language detector and one set of Hangul patterns for the whole product."""

from __future__ import annotations

import ast
from pathlib import Path

from cinerec.text.lang import (
    GENRES_KO,
    HANGUL,
    HANGUL_LETTER,
    HANGUL_RUN,
    detect_language,
    is_syllable,
    language_or_default,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "cinerec"
RANGES = ("\uac00-\ud7a3", "\\uac00-\\ud7a3")  # the syllable range, as text or escaped


def test_detect_language_hangul_latin_and_fallback() -> None:
    assert detect_language("메멘토 감독은 누구야?", "en") == "ko"
    assert detect_language("Who directed Memento?", "ko") == "en"
    assert detect_language("2000?", "ko") == "ko"  # no letters: the fallback
    assert detect_language("2000?", "fr") == "en"  # an unknown fallback: English
    assert detect_language("rain") == "en"


def test_hangul_patterns() -> None:
    assert HANGUL_RUN.findall("Heat는 좋은 영화") == ["는", "좋은", "영화"]
    assert HANGUL.search("ㅋㅋ") is None and len(HANGUL_LETTER.findall("ㅋㅋ 가")) == 3
    assert is_syllable("힣") and not is_syllable("a")
    assert language_or_default("ko") == "ko" and language_or_default(None) == "en"


def test_korean_genre_names_cover_the_catalog_genres() -> None:
    assert GENRES_KO["Sci-Fi"] == "SF" and GENRES_KO["Romance"] == "로맨스"
    assert len(set(GENRES_KO.values())) == len(GENRES_KO)


def test_no_module_writes_its_own_hangul_range() -> None:
    """The syllable range is written once, in lang.py (a JSON-schema pattern sent to the model's
    grammar, in reasons.py, must keep the escaped form). "가" alone is a particle, so only the
    upper bound "힣" counts as a bound written out."""
    allowed = {"text/lang.py", "llm/reasons.py"}
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if value in (0xAC00, 0xD7A3, "\ud7a3") or (
                isinstance(value, str) and any(r in value for r in RANGES)
            ):
                offenders.append(rel)
    assert offenders == []
