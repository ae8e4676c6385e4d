"""The words a Korean one-liner may use: an allow list built from the movie's record.

Qwen 0.5B's Korean one-liners read an English synopsis and wrote Korean plots that were not
in it: sharks and a "Paris waitress" copied from the prompt's examples, "Andy는 소녀가 되어"
for The 40-Year-Old Virgin, "Craig, Smokey는 라이브러리에서 떠난다" (a library) for Friday
(``benchmarks/data/words_sample100_0.5b_v4.jsonl``, ``lines_labels_v5.jsonl``). A deny list of
nouns (:mod:`cinerec.llm.concept_words`) cannot name every invention, so a Korean one-liner's
grammar allows only (:func:`korean_review_pattern`):

- the record's names, in their Latin spelling: the title's words, the director, the two cast
  members the prompt shows, and the capitalized words of the synopsis (characters, places);
- the Korean names of the movie's own genres;
- a fixed list of Korean words that state no plot: words about a film (영화, 감독, 배우,
  연출 ...), mood and praise (유쾌한, 긴장감, 매력적인 ...), joining words and endings;

each name or noun optionally followed by one particle or ending (Craig와, 코미디입니다), and
"감독" (director) only after the director's own name ("Gray 감독의").
So a line is built around the record's facts ("Ice Cube와 Chris Tucker가 함께하는 유쾌한
코미디입니다."): it may be bland, but it cannot invent a shark, a girl or a library. Numbers
are not words here (the examples' "세 남자" came back as a plot).
"""

from __future__ import annotations

import re

from cinerec.data.types import Movie
from cinerec.llm.word_ban import separator, trie_regex
from cinerec.text.lang import GENRES_KO

# fmt: off
#: Nouns about a film, not its plot; they take a particle.
FILM_NOUNS = (
    "영화", "작품", "이야기", "장르", "배우", "배우들", "주연", "출연", "연기",
    "사람들", "웃음", "재미", "매력", "분위기", "장면", "장면들", "주인공", "인물", "인물들",
    "캐릭터", "명작", "고전", "호흡", "케미", "감성", "긴장감", "여운", "감동", "몰입감",
    "순간", "순간들", "시간", "한편", "함께",
)
#: Particles and endings after a name or noun (Craig와, 감독의, 코미디입니다, 매력적인).
PARTICLES = (
    "이", "가", "은", "는", "을", "를", "의", "와", "과", "도", "로", "으로", "에", "에서",
    "만", "처럼", "이다", "입니다", "이에요", "예요", "이죠", "들", "적인", "스러운", "하는",
    "한", "하게", "하고", "하며", "넘치는", "가득한", "있는",
)
#: Words that stand alone: mood, praise, joining words, verbs of showing, endings.
STANDALONE = (
    "유쾌한", "따뜻한", "잔잔한", "흥미로운", "재미있는", "인상적인", "특별한", "매력적인",
    "멋진", "좋은", "즐거운", "가벼운", "진지한", "독특한", "기발한", "생생한", "아름다운",
    "강렬한", "넘치는", "가득한", "담은", "그린", "그려낸", "보여주는", "함께하는", "빛나는",
    "돋보이는", "사로잡는", "선사하는", "펼쳐지는", "그리고", "또한", "정말", "아주", "가장",
    "다시", "한번", "꼭", "볼", "보기", "만한", "있는", "이", "그", "이런", "한", "편의", "마음을",
    "입니다", "합니다", "있습니다", "선사합니다", "펼쳐집니다", "그립니다", "보여줍니다",
    "완성합니다", "돋보입니다",
)
# fmt: on

_NAME = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+")
_CAPITALIZED = re.compile(r"(?<![\w'’])[A-Z][A-Za-zÀ-ÖØ-öø-ÿ]+")
_MOST_WORDS = 18


def record_names(movie: Movie) -> tuple[str, ...]:
    """The Latin-script words a Korean line may borrow from ``movie``'s record: title words,
    the director, the two cast members the prompt shows, the synopsis's capitalized words."""
    texts = [movie.title, movie.director or "", *movie.cast[:2]]
    words = [w for text in texts for w in _NAME.findall(text)]
    words += _CAPITALIZED.findall(movie.overview)
    return tuple(dict.fromkeys(w for w in words if len(w) > 1 or w.isupper()))


def genre_nouns(movie: Movie) -> tuple[str, ...]:
    """The Korean names of the movie's own genres (words of 필름 누아르 apart)."""
    names = [GENRES_KO[g] for g in movie.genres if g in GENRES_KO and g != "IMAX"]
    return tuple(dict.fromkeys(w for name in names for w in name.split()))


def korean_review_pattern(movie: Movie, most: int = _MOST_WORDS) -> str:
    """The pattern of a Korean one-liner about ``movie``: at most ``most`` allowed words
    (module docstring) with 1-3 separators between two of them."""
    heads = trie_regex([*record_names(movie), *genre_nouns(movie), *FILM_NOUNS])
    particles = trie_regex(PARTICLES)
    word = f"{heads}({particles})?|{trie_regex(STANDALONE)}"
    # "감독" (director) only right after the director's own name: Qwen 0.5B wrote "William
    # Shatner 감독" for Star Trek IV (Leonard Nimoy's) and "Speed 감독" (the title)
    directors = [n.split()[-1] for n in movie.directors]
    directors = [d for d in directors if d.isalpha()]
    if directors:
        word += f"|{trie_regex(directors)} (감독|연출)({particles})?"
    word = f"({word})"
    other = separator(".!?")
    return f"^{other}{{0,3}}({word}{other}{{1,3}}){{0,{most - 1}}}{word}{other}{{0,3}}$"
