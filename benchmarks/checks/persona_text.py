"""An independent checker of persona texts: does it end at a sentence, do its pronouns fit?

Written apart from the product's repair (``cinerec.llm.grounding.end_at_sentence``,
``cinerec.llm.facts``) and importing nothing from ``cinerec``, so a benchmark scored with it
can fail where the product's own code would agree with itself.

- :func:`reply_persona`: the persona string of a raw model reply, or None when the reply is not
  one complete JSON object with a ``persona`` string (a reply cut by ``max_tokens`` is not).
- :func:`ends_at_sentence`: the text's last character closes a sentence (``.``, ``!``, ``?``,
  ``…``, optionally followed by a closing quote or bracket); in Korean the word before it must
  end in a sentence-final syllable (다, 요, 죠, 까, 네, 군).
- :func:`pronoun_errors`: the third-person gendered pronouns the profile does not allow. With
  gender male: she/her/hers/herself/그녀...; female: he/him/his/himself and the pronoun 그 with
  a particle (그는, 그가, 그의, 그를, 그에게 ...); anything else (unspecified, other, none): all
  of them. :func:`gender_words` lists words that state a gender (female, 여성 ...) apart.

Example:
    >>> pronoun_errors("This viewer likes crime. He loves Heat.", "unspecified")
    ['He']
    >>> ends_at_sentence("이 관객은 범죄 영화를 좋아합니다.", "ko")
    True
"""

from __future__ import annotations

import json
import math
import re

_EN_MASC = ("he", "him", "his", "himself")
_EN_FEM = ("she", "her", "hers", "herself")
_KO_MASC = r"그(?:는|가|의|를|에게|에겐|도|와|랑|만의)?"
_KO_MASC_GLUED = r"그(?:는|가|의|를|에게)(?=[가-힣])"  # 그는반전 (a word glued to the pronoun)
_KO_FEM = r"그녀\w*"
# Words that state a gender (not pronouns; titles such as Iron Man are left alone): counted apart
_GENDER_WORDS = re.compile(
    r"(?<![A-Za-z'-])(?i:(male|lady|gentleman|guy))(?![a-z-])|(남성|여성|남자|여자)"
    r"|(?<![A-Za-z'-])(?i:female|woman)(?!s\b|izer)"  # glued too: "femalewho"
    r"|(?i:(?:year-old|young|old) (?:man|boy|girl))\b",
)
_PARTICLE_FREE = re.compile(r"^그$")  # "그" alone is "that" (그 영화), not a pronoun


def _english(words: tuple[str, ...]) -> re.Pattern[str]:
    # a capital or digit right after counts: "HeLikes", a word glued to the pronoun
    return re.compile(r"(?<![A-Za-z'-])(?i:(" + "|".join(words) + r"))(?![a-z-])")


_PATTERNS = {
    "masc_en": _english(_EN_MASC),
    "fem_en": _english(_EN_FEM),
    "masc_ko": re.compile(r"(?<![가-힣])(" + _KO_MASC_GLUED + "|" + _KO_MASC + r"(?![가-힣]))"),
    "fem_ko": re.compile(r"(?<![가-힣])(" + _KO_FEM + r")"),
}
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_KO_FINAL = re.compile(r"[다요죠까네군][.!?…][\"'”’)\]]*$")


def reply_persona(raw: str | None) -> str | None:
    """The ``persona`` string of a raw reply that is exactly one JSON object, else None."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("persona"), str):
        return None
    return value["persona"]


def ends_at_sentence(text: str | None, language: str) -> bool:
    """Whether ``text`` ends with a complete sentence (see the module docstring)."""
    if not text or not text.strip():
        return False
    text = text.rstrip()
    if language == "ko":
        return bool(_KO_FINAL.search(text))
    return bool(_TERMINAL.search(text))


def pronoun_errors(text: str | None, gender: str | None) -> list[str]:
    """Gendered words in ``text`` that the profile's ``gender`` does not allow, as written."""
    if not text:
        return []
    gender = (gender or "").strip().lower()
    found: list[str] = []
    if gender != "male":
        found += [m.group(1) for m in _PATTERNS["masc_en"].finditer(text)]
        found += [
            m.group(1)
            for m in _PATTERNS["masc_ko"].finditer(text)
            if not _PARTICLE_FREE.match(m.group(1))
        ]
    if gender != "female":
        found += [m.group(1) for m in _PATTERNS["fem_en"].finditer(text)]
        found += [m.group(1) for m in _PATTERNS["fem_ko"].finditer(text)]
    return found


def gender_words(text: str | None) -> list[str]:
    """Words that state a gender (male, female, woman, 남성, 여성 ...), whatever the profile."""
    if not text:
        return []
    return [m.group(0) for m in _GENDER_WORDS.finditer(text)]


_GLUED = re.compile(r"\b[A-Za-z]*[a-z]{2}[A-Z][A-Za-z]*|[가-힣]{10,}")


def glued_words(text: str | None) -> list[str]:
    """Words run together, the cost of a grammar that forbids the space the model wanted:
    a capital after two lowercase letters inside a word ("TheyEnjoying", "femaleAGER"; not
    "DiCaprio", "McQueen") or a Korean word of 10 or more syllables."""
    return _GLUED.findall(text or "")


def tags(text: str | None) -> list[str]:
    """Catalog tags that are no taste (IMAX) and bracketed lists (``[Action, Crime]``)."""
    if not text:
        return []
    return re.findall(r"\bIMAX|\[[^\]]*\]", text, flags=re.IGNORECASE)  # IMAXlists too


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson 95% interval of ``successes / n`` ((0, 1) when ``n`` is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
