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
  those words, built from their trie (the grammar converter supports no lookahead);
- only Latin letters, digits and light punctuation in English, plus Hangul in Korean: no
  brackets, braces or quotes (prompt formatting), no Chinese characters (the model's drift).

The pattern is a plain regular expression, so Python's :mod:`re` matches exactly what the
grammar allows (``re.fullmatch(persona_pattern(lang), text)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

_LATIN = ((ord("0"), ord("9")), (ord("A"), ord("Z")), (ord("a"), ord("z")), (0xC0, 0xD6))
_LATIN += ((0xD8, 0xF6), (0xF8, 0xFF))
_HANGUL = ((ord(FIRST_SYLLABLE), ord(LAST_SYLLABLE)),)
_LOWER = ((ord("a"), ord("z")), (0xDF, 0xF6), (0xF8, 0xFF))
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


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    word: bool = False  # a forbidden word ends here
    stem: bool = False  # every word from here on is forbidden


def _trie(words: tuple[str, ...]) -> _Node:
    root = _Node()
    for entry in words:
        node = root
        for ch in entry.rstrip("*").lower():
            node = node.children.setdefault(ch, _Node())
        if entry.endswith("*"):
            node.stem = True
        else:
            node.word = True
    return root


def _variants(ch: str) -> set[int]:
    return {ord(ch), ord(ch.upper()), ord(ch.lower())}


def _char_class(ranges: tuple[tuple[int, int], ...], without: set[int] = frozenset()) -> str:
    """A ``[...]`` class of ``ranges`` minus the code points ``without``."""
    parts: list[str] = []
    for lo, hi in ranges:
        start = lo
        for cp in sorted(c for c in without if lo <= c <= hi) + [hi + 1]:
            if start <= cp - 1:
                a, b = chr(start), chr(cp - 1)
                parts.append(a if a == b else f"{a}-{b}")
            start = cp + 1
    return "[" + "".join(parts) + "]"


def _word(node: _Node, depth: int, ranges: tuple[tuple[int, int], ...], last: str = "") -> str:
    """Words of 1..MAX_WORD characters (after ``depth`` already matched) that are not forbidden."""
    left = MAX_WORD - depth  # characters this node may still add (>= 1)
    taken: set[int] = set()
    alts: list[str] = []
    for ch, child in node.children.items():
        if not any(lo <= ord(ch) <= hi for lo, hi in ranges):
            continue  # a Hangul stem in the English alphabet
        taken |= _variants(ch)
        if child.stem or left < 2 and child.word:
            continue  # nothing through this character is allowed
        head = _char_class(tuple((c, c) for c in sorted(_variants(ch))))
        if left < 2:
            alts.append(head)
        else:
            alts.append(head + _word(child, depth + 1, ranges, ch))
    # after a whole forbidden word only lowercase may follow (heat, hero, malevolent), never a
    # capital or digit: Qwen glued a forbidden word to the next one ("maleAGER", "HeLikes")
    lower_only = node.word and last.isascii()
    free = _char_class(_LOWER if lower_only else ranges, taken)
    alts.insert(0, free + (f"{_char_class(ranges)}{{0,{left - 1}}}" if left > 1 else ""))
    group = "(" + "|".join(alts) + ")"
    optional = depth > 0 and not node.word
    return group + ("?" if optional else "")


def word_pattern(language: str) -> str:
    """One word that is not in :data:`FORBIDDEN_WORDS` (at most :data:`MAX_WORD` characters)."""
    ranges = _LATIN + (_HANGUL if language == "ko" else ())
    return _word(_trie(FORBIDDEN_WORDS), 0, ranges)


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
