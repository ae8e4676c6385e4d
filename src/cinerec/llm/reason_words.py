"""The words an English reason may use: its card's record, its evidence, and plain words.

Qwen 1.5B (the page's model) added claims from its own knowledge to English reasons: "The Game
is a warm, touching film", "the story of a young prince" (The Princess Bride), "Jennifer
Aniston, a Christian actress"; 13 of 50 English reasons of its words v11 hand sample were false
(Korean: 0 of 50), and the fact checker, which reads genres, people, years and ticked titles,
flagged 2 of them. A word outside the record cannot be checked against the catalog, so the
English reason's grammar (:mod:`cinerec.llm.reasons`) lets the model write only:

- the words of the card's title, genres, director, leading cast and themes (its catalog
  keywords that :func:`cinerec.llm.evidence.is_theme` allows);
- the words of every fact of its evidence and of the ticked titles that share one;
- :data:`PLAIN_WORDS`: function words and verbs that say how a movie relates to the viewer or
  to another movie, none of which states a fact of its own. No adjective of quality or mood
  ("warm", "dark", "classic"), no negation ("not", "never", "without": a reason never argues
  against its card), no gendered pronoun (the record has no gender), no word of plot.

A relation between allowed words can still be false ("directed by" the wrong person, "like X"
where X shares nothing): the fact checker reads those.

Example:
    >>> from cinerec.data.types import Movie
    >>> from cinerec.llm.evidence import build_evidence
    >>> heat = Movie(6, "Heat", 1995, ("Crime",), director="Michael Mann")
    >>> card = Movie(1, "Collateral", 2004, ("Crime", "Thriller"), director="Michael Mann",
    ...              keywords=("taxi", "hitman"))
    >>> words = reason_words(build_evidence(card, [heat]))
    >>> sorted(w for w in words if w not in PLAIN_WORDS)[:7]
    ['2004', 'Collateral', 'Crime', 'Heat', 'Mann', 'Michael', 'Thriller']
    >>> {"taxi", "hitman", "heat", "crime"} <= words
    True
    >>> {"warm", "not", "prince"} & words
    set()
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cinerec.llm.evidence import Evidence, is_theme

#: Words of no fact of their own (see the module docstring), lowercase; a capitalised form is
#: allowed too (a sentence may open with one). Chosen from the 100 English reasons of Qwen
#: 1.5B's words v11 run: every word they used outside their evidence that states no fact. Not
#: "viewer" or "preference": with them the model wrote "..., which aligns with the viewer's
#: preference for" and, the taste's words not being allowed, ran into the word cap. Not
#: "which" (outside "which you watched"), "many", "common" or a modal verb either: with them it
#: padded ("..., which are both common in many movies", "which can be enjoyed by") into the cap
#: (words v12: 32 of 50 English raw texts garbled, most cut at the cap). Not "released": it
#: wrote "a fitting and released theme". Not "taste": the grammar writes "taste for" only
#: before one of the evidence's taste values (:func:`cinerec.llm.reasons.card_schema`).
PLAIN_WORDS = frozenset(
    """
    a an the and or but with of to in on at for from by as about among like also both too so
    this that these those who whose what where when it its is are was were be been being
    has have had their they them you your one two another other others same similar more
    all each any some such just only again then
    film films movie movies story stories tale theme themes themed genre genres setting set
    role roles cast actor actors director directors performance
    star stars starring starred feature features featuring featured direct directs directed
    made makes make explore explores exploring explored share shares shared sharing deal deals
    dealing focus focuses focusing follow follows tell tells told center centers appear
    appears appearing play plays played playing include includes including bring brings
    return returns meet meets
    fit fits fitting match matches matching align aligns aligning enjoy enjoys
    enjoyed appreciate appreciates love loves loved like likes liked
    if year years era back element elements kind type mix blend s
    """.split()
)

_TOKEN = re.compile(r"[^\W_]+")


def reason_words(evidence: Evidence) -> frozenset[str]:
    """The words (letters and digits, as written) an English reason for ``evidence``'s card
    may use, besides :data:`PLAIN_WORDS` in any case; see the module docstring."""
    movie = evidence.movie
    texts = [movie.title, *movie.genres, movie.director or "", *movie.cast[:5]]
    texts.extend(k for k in movie.keywords if is_theme(k))
    if movie.year:
        texts.append(str(movie.year))
    for fact in evidence.facts:
        texts.extend([fact.value, *fact.watched])
    words = {w for text in texts for w in _TOKEN.findall(text)}
    words |= {w.casefold() for w in words if w[:1].isupper() and w[1:].islower()}
    return frozenset(words | PLAIN_WORDS)


def word_forms(words: Iterable[str]) -> list[str]:
    """Each of ``words`` as written and, when it is lowercase, capitalised (a sentence's first
    word), sorted.

    >>> word_forms(frozenset({"film", "McQueen", "1995"}))
    ['1995', 'Film', 'McQueen', 'film']
    """
    forms = set(words)
    forms |= {w[0].upper() + w[1:] for w in forms if w.islower()}
    return sorted(forms)
