"""Genre words a card's text may not use: the words of every genre the card's movie lacks.

A small model calls films what they are not ("Fight Club is a twist on the classic horror
film", "The Incredibles ... combines elements of action, drama, and mystery": 7 of 82 raw post
lines and 2 of 200 raw reasons in ``benchmarks/results/words_0.5b_v3.md``). The reasons' and
one-line reviews' grammars therefore ban, per card, the words of the genres the card does not
have (:func:`banned_genre_words`), through the same trie as the persona's banned words
(:func:`cinerec.llm.word_ban.unbanned_word`): the model cannot write them at all.

The rule, for words that are both a genre and an ordinary word:

- English: a genre's name, its plural, and the adjectives the fact checker reads as that genre
  (``comedic``, ``romantic``, ``animated``) are banned, case-insensitively, with every word that
  continues them: a small model kept from a word glues letters to it (Qwen 0.5B wrote
  "mysteryous", "dramaand suspense", "dramaístico", "science fictionistry"). Words that merely
  start like a genre stay allowed (``mysterious``, ``thrilling``, ``horrific``,
  ``adventurous``). ``drama`` and ``fiction`` (of "science fiction") ban every continuation,
  ``dramatic`` and ``fictional`` included: given any, Qwen wrote "dramaTie", "dramatism",
  "dramatherapy", "fictionavorably". Two names start common ordinary words and keep those:
  ``war`` (``ward``, ``warm``, ``warn``, ``warrior``, ``wars`` ...) and ``sci`` of sci-fi
  (``science``, ``scissors`` ...; ``sciencefiction`` banned). So a drama set in a war says
  "conflict" unless "war" is one of its keywords (below); ``sf``, ``scifi`` stand for Sci-Fi,
  ``noir`` for Film-Noir.
- Korean: a word carries its particles (드라마를, 스릴러예요), so a Korean genre name bans
  every word that starts with it (``드라마*`` also bans 드라마틱한, ``공포*`` 공포스러운, ``범죄*``
  범죄자). A genre name glued after another word (블랙코미디) is not caught here; the fact
  checker of the reply still is.
- Children has no banned word: its names (children, family, 가족) are ordinary nouns of plots,
  and the checker reads only phrases ("family film", "children's", "가족 영화").
- Never banned: the words of the card's own genres, and any word of the card's title, its
  keywords or the titles the prompt shows (``mentioned``): "world war ii" is a fact of its card,
  "Mystery Men" a ticked title, not genre claims.

Example:
    >>> from cinerec.data.types import Movie
    >>> card = Movie(1, "Snatch", 2000, ("Comedy", "Crime", "Thriller"), keywords=("heist",))
    >>> words = banned_genre_words(card)
    >>> "mystery*" in words, "comedy*" in words, "드라마*" in words
    (True, False, True)
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from cinerec.data.types import Movie

# Lowercase letters that may continue a word: ASCII and Latin-1 (Qwen wrote "dramaístico").
_LOWER = string.ascii_lowercase + "".join(map(chr, [*range(0xDF, 0xF7), *range(0xF8, 0x100)]))


def all_but(stem: str, allowed: str) -> tuple[str, ...]:
    """``stem`` and every word that continues it with a lowercase letter not in ``allowed``:
    ``war`` then anything but the letters of ward, warm, warrior ... (warand does not)."""
    return (stem, *(f"{stem}{c}*" for c in _LOWER if c not in allowed))


#: Per catalog genre, the words that claim it (a trailing ``*``: every word starting so).
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "Action": ("action*", "액션*"),
    "Adventure": ("adventure*", "모험*", "어드벤처*"),
    "Animation": ("animation*", "animated*", "cartoon*", "애니*"),
    "Children": (),
    "Comedy": ("comedy*", "comedies*", "comedic*", "코미디*", "코메디*"),
    "Crime": ("crime*", "범죄*"),
    "Documentary": ("documentary*", "documentaries*", "다큐*"),
    "Drama": ("drama*", "드라마*", "연극*"),
    "Fantasy": ("fantasy*", "fantasies*", "판타지*"),
    "Film-Noir": ("noir*", "누아르*", "느와르*"),
    "Horror": ("horror*", "공포*", "호러*"),
    "Musical": ("musical*", "뮤지컬*"),
    "Mystery": ("mystery*", "mysteries*", "미스터리*", "미스테리*"),
    "Romance": ("romance*", "romantic*", "로맨스*", "로맨틱*", "멜로*"),
    "Sci-Fi": (*all_but("sci", "eilmnopst"), "sciencef*", "sf*", "fiction*", "공상*"),
    "Thriller": ("thriller*", "스릴러*"),
    "War": (*all_but("war", "bdefhlmnprstwy"), "전쟁*"),
    "Western": ("western*", "서부*"),
}
_TOKEN = re.compile(r"[^\W_]+")


def banned_genre_words(movie: Movie, *, mentioned: Iterable[str] = ()) -> tuple[str, ...]:
    """The genre words a text about ``movie`` may not use (see the module's rule), sorted.

    Args:
        movie: The card's movie: the words of its own genres stay allowed.
        mentioned: Other text the prompt shows (the ticked movies' titles): its words stay
            allowed, like those of the card's title and keywords.
    """
    own = {w for g in movie.genres for w in GENRE_WORDS.get(g, ())}
    texts = (movie.title, *movie.keywords, *mentioned)
    tokens = {t.casefold() for text in texts for t in _TOKEN.findall(text)}

    def kept(entry: str) -> bool:
        stem = entry.rstrip("*")
        if entry.endswith("*"):
            return not any(t.startswith(stem) for t in tokens)
        return stem not in tokens

    return tuple(
        sorted({w for words in GENRE_WORDS.values() for w in words if w not in own and kept(w)})
    )
