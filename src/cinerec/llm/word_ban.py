"""One word that is not a banned word, as a regular expression a llama.cpp grammar can use.

llama.cpp's JSON-schema converter supports no lookahead, so "any word but these" is written as
the complement of the banned words' trie: at each letter, either a letter that leaves the trie
(then any letters), or a letter of a banned word and the rest of the word through that branch.
Used by the persona (gendered words, :mod:`cinerec.llm.persona_pattern`) and by the reasons' and
one-line reviews' grammars (genre words the card lacks, :mod:`cinerec.llm.genre_words`).

A banned entry is matched whole-word and ASCII case-insensitively; a trailing ``*`` bans every
word that starts with it (a Korean word carries its particles: ``드라마*`` bans 드라마를,
드라마예요). After a whole banned word only a lowercase letter may follow (``heat``, ``hero``,
``dramatic``), never a capital or a digit: Qwen glued a banned word to the next one
("maleAGER", "HeLikes", "dramaTie").

Example:
    >>> import re
    >>> word = unbanned_word(("he", "drama*"), LATIN, 16)
    >>> [bool(re.fullmatch(word, w)) for w in ("he", "He", "heat", "HeLikes", "dramatic", "hi")]
    [False, False, True, False, False, True]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cinerec.text.lang import FIRST_SYLLABLE, LAST_SYLLABLE

Ranges = tuple[tuple[int, int], ...]

#: Letters of a Latin-script word: digits, ASCII letters, Latin-1 letters (Amélie).
LATIN: Ranges = ((ord("0"), ord("9")), (ord("A"), ord("Z")), (ord("a"), ord("z")), (0xC0, 0xD6))
LATIN += ((0xD8, 0xF6), (0xF8, 0xFF))
#: Hangul syllables (a Korean word).
HANGUL: Ranges = ((ord(FIRST_SYLLABLE), ord(LAST_SYLLABLE)),)
#: Lowercase Latin letters (ASCII and Latin-1).
LOWER: Ranges = ((ord("a"), ord("z")), (0xDF, 0xF6), (0xF8, 0xFF))
_LOWER = LOWER


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    word: bool = False  # a banned word ends here
    stem: bool = False  # every word from here on is banned


def _trie(words: Iterable[str]) -> _Node:
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
    return {ord(c) for c in (ch, ch.upper(), ch.lower()) if len(c) == 1}  # "ß".upper() is "SS"


def char_class(ranges: Ranges, without: Iterable[int] = (), *, negated: bool = False) -> str:
    """A ``[...]`` class of ``ranges`` minus the code points ``without`` (``[^...]`` of the
    ranges when ``negated``: then ``without`` is ignored)."""
    skip = set(without) if not negated else set()
    parts: list[str] = []
    for lo, hi in ranges:
        start = lo
        for cp in sorted(c for c in skip if lo <= c <= hi) + [hi + 1]:
            if start <= cp - 1:
                a, b = chr(start), chr(cp - 1)
                parts.append(a if a == b else f"{a}-{b}")
            start = cp + 1
    return ("[^" if negated else "[") + "".join(parts) + "]"


#: Letters of a word in either language (Latin script and Hangul).
LETTERS: Ranges = LATIN + HANGUL


#: What may stand between two words of a reason or one-liner: a space and light punctuation.
#: Not any non-letter: forced to stop at its word cap, Qwen 0.5B wrote Chinese there ("making
#: it a great choice for一看."); no double quote or backslash (they break the JSON string).
SEPARATORS = " ,;:'()&/%’‘“”–—·-"


def separator(marks: str = "") -> str:
    """A ``[...]`` class of one :data:`SEPARATORS` character, or one of ``marks``."""
    return "[" + SEPARATORS[:-1] + marks + "-]"


def _word(
    node: _Node, depth: int, ranges: Ranges, max_chars: int, last: str = "", lower: bool = False
) -> str:
    left = max_chars - depth  # characters this node may still add (>= 1)
    lower_only = node.word and last.isascii()
    taken: set[int] = set()
    alts: list[str] = []
    for ch, child in node.children.items():
        if not any(lo <= ord(ch) <= hi for lo, hi in ranges):
            continue  # a Hangul stem in the English alphabet
        taken |= _variants(ch)
        if child.stem or left < 2 and child.word:
            continue  # nothing through this character is allowed
        # after a whole banned word, a longer word goes on in lowercase too ("dramaTie")
        cases = {ord(ch)} if lower_only or lower else _variants(ch)
        head = char_class(tuple((c, c) for c in sorted(cases)))
        if left < 2:
            alts.append(head)
        else:
            alts.append(head + _word(child, depth + 1, ranges, max_chars, ch, lower))
    free = char_class(_LOWER if lower_only else ranges, taken)
    if free != "[]":  # every letter may be taken ("drama" then only "dramat...": genre_words)
        alts.insert(0, free + (f"{char_class(ranges)}{{0,{left - 1}}}" if left > 1 else ""))
    group = "(" + "|".join(alts) + ")"
    optional = depth > 0 and not node.word
    return group + ("?" if optional else "")


def unbanned_word(
    banned: Iterable[str], ranges: Ranges, max_chars: int, *, lower: bool = False
) -> str:
    """One word of 1..``max_chars`` characters of ``ranges`` that is none of ``banned``
    (``lower``: the banned words' letters only in lowercase too, for ``ranges`` without
    capitals).

    The word is maximal only when the pattern puts a non-letter (or the end) on both sides of
    it; two words side by side would spell a banned one in halves.
    """
    return _word(_trie(banned), 0, ranges, max_chars, lower=lower)


def literal(text: str) -> str:
    """``text`` as a pattern that matches it only: letters, digits and spaces as they are,
    brackets escaped, every other character a one-character class (the grammar converter
    reads ``[-]``, not every escape)."""
    return "".join(
        c if c.isalnum() or c == " " else f"\\{c}" if c in "[]^" else f"[{c}]" for c in text
    )


def trie_regex(words: Iterable[str]) -> str:
    """A regular expression (no escapes: letters and digits only) matching exactly one of
    ``words``, shared prefixes factored out so the grammar keeps few alternatives at each
    letter."""
    root: dict[str, dict] = {}
    end = ""  # a key no letter can be: marks a word's end
    for word in sorted(set(words)):
        if not word.isalnum():
            raise ValueError(f"not a word of letters and digits: {word!r}")
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[end] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [ch + emit(child) for ch, child in sorted(node.items()) if ch != end]
        if not branches:
            return ""
        if end in node:
            return "(" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(" + "|".join(branches) + ")"

    return emit(root)
