"""Concrete nouns a one-line review may not use when its movie's record never supports them.

The hand-checked sample of words v4 (``benchmarks/data/words_sample100_0.5b_v4.jsonl``) found
Qwen 0.5B's Korean one-liners inventing plots out of the prompt's example answers: a shark
(상어, from the Jaws example) in Friday (1995) and in Much Ado About Nothing, a "Paris waitress"
(파리 웨이트리스, the Amélie example) in Star Trek IV, "세 남자" (Jaws' three men) and a girl
(소녀) in The 40-Year-Old Virgin. The checks rejected some of these after the fact; the grammar
now makes them impossible: for each concept of :data:`CONCEPTS` whose English stems no word of
the movie's record (title, synopsis, keywords, genres, people) or of the theme starts with,
the concept's words in both languages are banned (:func:`unsupported_words`, through the trie of
:func:`cinerec.llm.word_ban.unbanned_word`).

The list holds every concrete noun of the one-liner prompt's example answers
(:mod:`cinerec.llm.posts.prompts`), so no example can leak into another movie's line, and a few
creatures and figures a small model invents for any plot. It is a deny list, not an allow list:
a noun that is not here and not in the record can still be written (the words benchmark and a
reader measure what is left).

Korean entries ending in ``*`` ban every word starting with them (the noun with its particles:
상어가, 상어와); a short noun that starts other words (배 "boat" starts 배우 "actor") is listed
with its particle forms instead.

Example:
    >>> words = unsupported_words("friday (1995) comedy ice cube rap music job")
    >>> "shark*" in words, "상어*" in words, "comedy*" in words
    (True, True, False)
    >>> "shark*" in unsupported_words("jaws a great white shark")
    False
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


def _forms(noun: str) -> tuple[str, ...]:
    """A short Korean noun with its common particles (banned whole, not as a prefix)."""
    particles = ("", "가", "이", "는", "은", "를", "을", "의", "에", "에서", "와", "과", "도", "로")
    return tuple(noun + p for p in particles)


@dataclass(frozen=True, slots=True)
class Concept:
    """A concept: the English stems that support it (a record word starting with one) and the
    words that name it (banned when unsupported)."""

    stems: tuple[str, ...]
    words: tuple[str, ...]


# fmt: off
CONCEPTS: tuple[Concept, ...] = (
    # the example answers' nouns (Amélie, Jaws; Paddington is only in the plan prompt)
    Concept(("shark", "jaws"), ("shark*", "상어*", "백상아리*")),
    Concept(("waitress", "waiter", "waitstaff"),
            ("waitress*", "waiter*", "웨이트리스*", "웨이터*", "종업원*")),
    Concept(("paris", "france", "french"), ("paris*", "parisian*", "파리*")),
    Concept(("shy",), ("shy", "shyly", "수줍*")),
    Concept(("secret",), ("secret*", "몰래*")),
    Concept(("kind",), ("kindness*", "친절*")),
    Concept(("fisher", "fishing"), ("fisherman*", "fishermen*", "어부*", "낚시*")),
    Concept(("scien",), ("scientist*", "과학자*")),
    Concept(("police", "cop", "sheriff", "detective", "officer", "fbi", "agent", "marshal"),
            ("police*", "cop", "cops", "sheriff*", "경찰*", "보안관*")),
    Concept(("boat", "ship", "yacht", "sail", "ferry", "vessel", "cruise", "submarine"),
            ("boat*", "yacht*", "보트*", "선박*", *_forms("배"))),
    Concept(("summer",), ("summer*", "여름*")),
    Concept(("bear",), ("bear", "bears", "곰", *_forms("곰"))),
    Concept(("peru",), ("peru*", "페루*")),
    Concept(("london", "england", "brit"), ("london*", "런던*")),
    Concept(("music box",), ("오르골*",)),
    # figures a small model invents for any plot
    Concept(("girl", "daughter", "teen"), ("girl*", "소녀*")),
    Concept(("alien", "extraterrestrial", "ufo"), ("alien*", "외계*")),
    Concept(("monster", "creature", "beast", "godzilla"), ("monster*", "괴물*")),
    Concept(("ghost", "spirit", "haunt", "poltergeist"), ("ghost*", "유령*", "귀신*")),
    Concept(("zombie", "undead"), ("zombie*", "좀비*")),
    Concept(("vampire", "dracula"), ("vampire*", "뱀파이어*", "흡혈*")),
    Concept(("dragon",), ("dragon*", "드래곤*")),
    Concept(("robot", "android", "cyborg"), ("robot*", "로봇*")),
    Concept(("dinosaur", "jurassic"), ("dinosaur*", "공룡*")),
    Concept(("wizard", "witch", "magic", "sorcer", "wand"),
            ("wizard*", "마법*", "마녀*")),
)
# fmt: on

_TOKEN = re.compile(r"[^\W_]+")


def _supported(stems: Iterable[str], tokens: set[str], text: str) -> bool:
    for stem in stems:
        if " " in stem:
            if stem in text:
                return True
        elif any(t.startswith(stem) for t in tokens):
            return True
    return False


def unsupported_words(facts: str, *, allowed: Iterable[str] = ()) -> tuple[str, ...]:
    """The ban entries of every concept the record text ``facts`` does not support, sorted.

    Args:
        facts: What the catalog says about the movie (and the theme), any case.
        allowed: Other text whose words stay allowed (the post's theme: "상어" in a Korean
            theme keeps 상어).
    """
    text = " ".join([facts, *allowed]).casefold()
    tokens = set(_TOKEN.findall(text))
    banned: set[str] = set()
    for concept in CONCEPTS:
        if _supported(concept.stems, tokens, text):
            continue
        for word in concept.words:
            stem = word.rstrip("*")
            if any(t.startswith(stem) if word.endswith("*") else t == stem for t in tokens):
                continue  # the text itself uses the word (a Korean theme)
            banned.add(word)
    return tuple(sorted(banned))
