"""The product's two languages, English and Korean: detection, Hangul patterns, genre names.

Every module that asks "is this Korean?" uses the patterns here. :data:`SYLLABLES` is the
Hangul syllables block as a character-class body, for patterns that compose it
(``rf"[{SYLLABLES}]+"``); :data:`HANGUL` matches one syllable, :data:`HANGUL_RUN` a run of
them, and :data:`HANGUL_LETTER` also counts loose jamo (``ㅋㅋ``), which is how a model's
Korean output is measured. :func:`detect_language` is the one language detector.
:data:`GENRES_KO` gives the catalog's (MovieLens) genres their Korean display names.

Matching a Hangul-written English title by sound is :mod:`cinerec.text.hangul`.

Example:
    >>> detect_language("비 오는 날 볼 영화"), detect_language("a rainy day"), detect_language("42")
    ('ko', 'en', 'en')
    >>> detect_language("42", fallback="ko"), language_or_default("fr")
    ('ko', 'en')
    >>> HANGUL_RUN.findall("Heat는 좋은 영화"), is_syllable("가"), is_syllable("ㄱ")
    (['는', '좋은', '영화'], True, False)
"""

from __future__ import annotations

import re

#: Language code to the language's English name (what prompts say: "Answer in Korean").
LANGUAGES: dict[str, str] = {"en": "English", "ko": "Korean"}
DEFAULT_LANGUAGE = "en"

#: Hangul syllables (가 to 힣) as the body of a character class.
SYLLABLES = "\uac00-\ud7a3"
FIRST_SYLLABLE, LAST_SYLLABLE = "\uac00", "\ud7a3"
#: One Hangul syllable.
HANGUL = re.compile(f"[{SYLLABLES}]")
#: A run of Hangul syllables (a Korean word without spaces).
HANGUL_RUN = re.compile(f"[{SYLLABLES}]+")
#: A Hangul syllable or a loose jamo (ㄱ, ㅏ, ...): what counts as Korean in a model's output.
HANGUL_LETTER = re.compile(f"[{SYLLABLES}\u1100-\u11ff\u3130-\u318f]")
#: Kana and CJK ideographs: small models drift into Chinese or Japanese.
OTHER_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: One Latin letter.
LATIN = re.compile(r"[A-Za-z]")

#: The catalog's genres to their Korean display names.
GENRES_KO: dict[str, str] = {
    "Action": "액션", "Adventure": "모험", "Animation": "애니메이션", "Children": "가족",
    "Comedy": "코미디", "Crime": "범죄", "Documentary": "다큐멘터리", "Drama": "드라마",
    "Fantasy": "판타지", "Film-Noir": "필름 누아르", "Horror": "공포", "IMAX": "IMAX",
    "Musical": "뮤지컬", "Mystery": "미스터리", "Romance": "로맨스", "Sci-Fi": "SF",
    "Thriller": "스릴러", "War": "전쟁", "Western": "서부",
}  # fmt: skip


def is_syllable(ch: str) -> bool:
    """Whether the single character ``ch`` is a Hangul syllable."""
    return FIRST_SYLLABLE <= ch <= LAST_SYLLABLE


def detect_language(text: str, fallback: str = DEFAULT_LANGUAGE) -> str:
    """``ko`` when the text has Hangul, ``en`` when it has 3+ Latin letters, else ``fallback``
    (when it is a known language, else ``en``)."""
    if HANGUL.search(text):
        return "ko"
    if len(LATIN.findall(text)) >= 3:
        return "en"
    return language_or_default(fallback)


def language_or_default(language: str | None) -> str:
    """``language`` when it is one the product speaks, else ``en``."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE
