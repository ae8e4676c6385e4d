"""The persona's constrained-decoding pattern: whole sentences, no gendered words, no tags.

Left free, Qwen 0.5B ended 5 of 9 personas mid-sentence (cut by ``max_tokens``) and gave 3 of 9
viewers a pronoun their profile did not (``benchmarks/results/words_0.5b_v2.md``). The JSON
schema's ``pattern`` (turned into a llama.cpp grammar) now makes the model write:

- sentences opening with the subject "This viewer" / "이 관객은", each ending with ``.``,
  ``!`` or ``?`` (Korean: after 다 or 요), so the string can only close at a sentence end, in
  at most ``WORDS`` words (a cap on each sentence made the model glue words together once it
  reached it), so the length is bounded (:func:`persona_max_chars`) and ``max_tokens`` sized by
  :func:`persona_max_tokens` always lets the grammar close;
- words that are never a gendered pronoun or noun (he, she, his, her, 그는, 그녀 ...; see
  :data:`FORBIDDEN_WORDS`) nor the catalog tag IMAX: each word is matched by the complement of
  those words, built from their trie (:func:`cinerec.llm.word_ban.unbanned_word`; the grammar
  converter supports no lookahead);
- only Latin letters, digits and light punctuation in English, plus Hangul in Korean: no
  brackets, braces or quotes (prompt formatting), no Chinese characters (the model's drift).

The pattern is a plain regular expression, so Python's :mod:`re` matches exactly what the
grammar allows (``re.fullmatch(persona_pattern(lang), text)``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cinerec.llm.word_ban import HANGUL, LATIN, LOWER, trie_regex, unbanned_word
from cinerec.text.lang import FIRST_SYLLABLE, LAST_SYLLABLE

# Words a persona never uses, whatever the profile says: the viewer is "this viewer" (or
# "they"), never he or she, so a pronoun can never contradict the profile. Matched whole-word,
# ASCII case-insensitively. A trailing "*" forbids every word that starts with the stem: kept
# from writing "그는 반전...", Qwen wrote "그는반전..." (a word the exact ban let through).
# Qwen 1.5B called an unspecified "Emma" "a 30-year-old woman"; "man" stays allowed (Iron Man).
# Bare 그 stays allowed: before a noun it is "that" (그 영화), and 그리고, 그런 start with it.
FORBIDDEN_WORDS: tuple[str, ...] = (
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "male",
    "female*",
    "woman*",
    "lady",
    "gentleman",
    "guy",
    "imax*",
    "그는*",
    "그가*",
    "그의*",
    "그를*",
    "그에게*",
    "그도",
    "그와",
    "그녀*",
    "남성*",
    "여성*",
    "남자*",
    "여자*",
)

MAX_WORD = 16  # letters in one word (longer words split at a hyphen)
SUBJECT = {"en": "This viewer", "ko": "이 관객은"}
# (fewest, most) words after the subject, the whole persona: the prompt asks for at most 50
# English words; a Korean word (eojeol) carries its particles, so fewer of them.
WORDS = {"en": (6, 64), "ko": (5, 40)}
_SEPARATOR = "[ ,;:()'&/-]{1,2}"  # between two words of a sentence
# a sentence's end after its last word: English may close a bracket first; Korean ends the
# word with 다 or 요 (좋아합니 + 다.), which no forbidden word does
_END = {"en": "\\)?[.!?]", "ko": "[다요][.!?]"}
_END_CHARS = {"en": 2, "ko": 2}


def word_pattern(
    language: str, banned: Sequence[str] = (), names: Sequence[str] | None = None
) -> str:
    """One word that is not in :data:`FORBIDDEN_WORDS` nor in ``banned`` (at most
    :data:`MAX_WORD` characters). With ``names``, a word that starts with a capital must be one
    of them (:func:`capitalized_words`): every other word is lowercase, digits or Hangul."""
    ranges = LATIN + (HANGUL if language == "ko" else ())
    if names is None:
        return unbanned_word((*FORBIDDEN_WORDS, *banned), ranges, MAX_WORD)
    lower = ((ord("0"), ord("9")), *LOWER) + (HANGUL if language == "ko" else ())
    plain = unbanned_word((*FORBIDDEN_WORDS, *banned), lower, MAX_WORD, lower=True)
    capitals = sorted({n for n in names if n[:1].isupper() and n.isalpha()})
    if not capitals:
        return plain
    # a Korean particle may follow a title's word (Club과, Clerks를)
    particle = f"[{FIRST_SYLLABLE}-{LAST_SYLLABLE}]{{0,3}}" if language == "ko" else ""
    return f"({plain}|{trie_regex(capitals)}{particle})"


# Capitalized words any persona may use: sentence openers and the catalog's genre names.
OPENERS = (
    "They", "This", "Their", "Them", "These", "Those", "The", "It", "Its", "In", "As", "At",
    "On", "Of", "With", "Most", "Some", "Many", "Both", "Also", "And", "But", "Or", "A", "An",
    "For", "From", "When", "While", "Overall", "However", "Especially", "Like", "Such", "Other",
    "Each", "All", "Any", "Movies", "Films", "Genres", "Viewer", "Action", "Adventure",
    "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Film",
    "Noir", "Horror", "Musical", "Mystery", "Romance", "Sci", "Fi", "SF", "Thriller", "War",
    "Western",
)  # fmt: skip
_TITLE_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+")


def capitalized_words(titles: Sequence[str]) -> tuple[str, ...]:
    """The capitalized words a persona may write: :data:`OPENERS` and the words of the ticked
    movies' ``titles``. A title the viewer did not tick ("Inception 2", "Galactic Tacos",
    Qwen 0.5B's "Invision 2") cannot be written: its capitalized words are none of these."""
    words = [w for t in titles for w in _TITLE_WORD.findall(t) if w[:1].isupper()]
    return tuple(dict.fromkeys([*OPENERS, *words]))


def persona_pattern(
    language: str, banned: Sequence[str] = (), names: Sequence[str] | None = None
) -> str:
    """The regular expression a persona in ``language`` (``en`` or ``ko``) must match whole.

    The subject, then words joined by separators or by a sentence end and a space, then a
    final sentence end: the string can only close at the end of a sentence, after at most
    ``WORDS[language][1]`` words, none of them in ``banned`` (whole words, case-insensitive:
    the words of a title only the taste names, :func:`cinerec.llm.persona.taste_only_words`),
    and with ``names`` no capitalized word but those (:func:`capitalized_words`).
    """
    low, high = WORDS[language]
    word = word_pattern(language, banned, names)
    end = _END[language]
    unit = f"(({_SEPARATOR}|{end} ){word})"
    return f"^{SUBJECT[language]}{_SEPARATOR}{word}{unit}{{{low - 1},{high - 1}}}{end}$"


def persona_max_chars(language: str) -> int:
    """The most characters :func:`persona_pattern` allows (every word and gap at its longest)."""
    gap = max(2, _END_CHARS[language] + 1)
    return len(SUBJECT[language]) + WORDS[language][1] * (gap + MAX_WORD) + _END_CHARS[language]


def persona_max_tokens(language: str) -> int:
    """A ``max_tokens`` under which the grammar can always close: every token carries at least
    one byte, a character at most 3 (Hangul), plus the JSON around the string (and the spaces
    the JSON grammar allows there)."""
    per_char = 3 if language == "ko" else 2
    return persona_max_chars(language) * per_char + 80
