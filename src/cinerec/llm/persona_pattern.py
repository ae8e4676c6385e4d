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

from cinerec.llm.word_ban import HANGUL, LATIN, unbanned_word

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


def word_pattern(language: str) -> str:
    """One word that is not in :data:`FORBIDDEN_WORDS` (at most :data:`MAX_WORD` characters)."""
    ranges = LATIN + (HANGUL if language == "ko" else ())
    return unbanned_word(FORBIDDEN_WORDS, ranges, MAX_WORD)


def persona_pattern(language: str) -> str:
    """The regular expression a persona in ``language`` (``en`` or ``ko``) must match whole.

    The subject, then words joined by separators or by a sentence end and a space, then a
    final sentence end: the string can only close at the end of a sentence, after at most
    ``WORDS[language][1]`` words.
    """
    low, high = WORDS[language]
    word = word_pattern(language)
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
