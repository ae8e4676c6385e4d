"""Match English titles written in Hangul ("메멘토" for Memento) by their consonant skeleton.

Korean viewers write foreign titles as Korean loanwords: 인셉션 (Inception), 매트릭스 (The
Matrix), 포레스트 검프 (Forrest Gump). The catalog only has the original titles, so both sides
are reduced to a *consonant skeleton*: vowels dropped and consonants mapped to the classes
Korean spelling keeps apart:

- P = p/b/f/v, T = t/d/th, K = k/g/c/q, L = l/r, M, N;
- S = s/z/j/sh/ch and soft c or g (an English ``s`` is written ㅅ or ㅈ: 어벤져스, 스타워즈).

English spelling rules come first (silent ``gh`` and ``kn``; ``tion`` is 션; an ``r`` before a
consonant or at the end is not pronounced, so not written: 아바타, 인터스텔라), and repeated
classes collapse. A Hangul syllable gives its initial (ㅇ is silent) and its final consonant (a
final ㅅ is a t sound in loanwords: 로봇 = robot). Different titles can share a skeleton: the
caller picks the most rated one and only when nothing else matched.

Example:
    >>> hangul_skeleton("인셉션"), latin_skeleton("Inception")
    ('NSPSN', 'NSPSN')
    >>> hangul_skeleton("포레스트 검프") == latin_skeleton("Forrest Gump")
    True
"""

from __future__ import annotations

import re
import unicodedata

from cinerec.text.lang import FIRST_SYLLABLE, LAST_SYLLABLE

# Initial consonants of a Hangul syllable, in Unicode order, as skeleton classes.
_INITIALS = "K K N T T L M P P S S _ S S S K T P H".split()
# Final consonants (index 0: none).
_FINALS = ["", *"K K KS N NS N T L LK LM LP LS LT LP L M P PS T T N T T K T P H".split()]
_HANGUL_BASE, _HANGUL_LAST = ord(FIRST_SYLLABLE), ord(LAST_SYLLABLE)

_VOWELS = set("aeiouy")
_LETTER_CLASSES = {
    **dict.fromkeys("pbfv", "P"),
    **dict.fromkeys("td", "T"),
    **dict.fromkeys("kqg", "K"),
    "c": "K",
    "s": "S",
    **dict.fromkeys("jz", "S"),
    **dict.fromkeys("lr", "L"),
    "m": "M",
    "n": "N",
    "x": "KS",
}
_DIGRAPHS = (
    ("chr", "KL"),
    ("tion", "SN"),
    ("sion", "SN"),
    ("ph", "P"),
    ("sh", "S"),
    ("ch", "S"),
    ("th", "T"),
    ("ck", "K"),
    ("gh", ""),
    ("wh", ""),
    ("qu", "K"),
)
# Particles and endings that attach to a noun in a question ("메멘토의", "인셉션처럼").
_PARTICLES = tuple(
    sorted(
        "의 은 는 이 가 을 를 와 과 도 에 에서 처럼 같은 보다 이랑 랑 하고 로 으로 부터 까지 "
        "이나 나 이란 란 이라는 라는 만".split(),
        key=len,
        reverse=True,
    )
)
#: Korean words of a movie question that are not titles.
STOP_WORDS = frozenset(
    "감독 감독은 감독이 영화 영화는 영화를 배우 배우는 출연 출연한 주연 장르 장르는 추천 추천해 "
    "추천해줘 비슷한 다른 누구 누구야 누구인가요 무엇 무엇인가요 언제 개봉 개봉했나요 몇 년 "
    "좋아 좋아해 보고 싶어 같은 영화들 작품 작품은 그리고 그럼 혹시 정말 아주 조금 가벼운 "
    "밝은 어두운 재미있는 무서운 슬픈 누가 나와 나오는 나온 뭐 뭐야 있어 있나요 어때 알려줘 "
    "같은데 같은거 거 것 더 좀 요즘 최근 유명한 인기 있는 없는 해줘 줘 보여줘 말해줘 "
    "이거 그거 저거 그 이 저 좀비 호러 스릴러 코미디 코메디 액션 로맨스 드라마 애니메이션 애니 "
    "판타지 뮤지컬 다큐멘터리 다큐 미스터리 미스테리 느와르 누아르 서부 전쟁 범죄 가족 모험 "
    "공포 스토리 시리즈 히어로 슈퍼히어로 마블 디즈니 픽사 넷플릭스 블록버스터".split()
)


def strip_particle(word: str) -> str:
    """``메멘토의`` -> ``메멘토``; a word that is only a particle stays."""
    for particle in _PARTICLES:
        if word.endswith(particle) and len(word) > len(particle) + 1:
            return word[: -len(particle)]
    return word


def _collapse(classes: list[str]) -> str:
    out: list[str] = []
    for c in "".join(classes):
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def hangul_skeleton(text: str) -> str:
    """Consonant classes of the Hangul syllables in ``text`` (other characters ignored)."""
    classes: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        code = ord(ch)
        if not _HANGUL_BASE <= code <= _HANGUL_LAST:
            continue
        index = code - _HANGUL_BASE
        initial, final = index // (21 * 28), index % 28
        classes.append(_INITIALS[initial].replace("_", "").replace("H", ""))
        classes.append(_FINALS[final].replace("H", ""))
    return _collapse(classes)


def _latin_word(word: str) -> list[str]:
    classes: list[str] = []
    if word.startswith("kn"):
        word = word[1:]
    elif word.startswith("wr"):
        word = word[1:]
    i = 0
    while i < len(word):
        for digraph, value in _DIGRAPHS:
            if word.startswith(digraph, i):
                classes.append(value)
                i += len(digraph)
                break
        else:
            ch = word[i]
            following = word[i + 1] if i + 1 < len(word) else ""
            if ch == "r" and following not in _VOWELS:
                pass  # non-rhotic: "Avatar" is 아바타, "Interstellar" 인터스텔라
            elif ch == "n" and following == "g" and word[i + 2 : i + 3] not in _VOWELS:
                classes.append("N")  # "king" is 킹
                i += 1
            elif ch == "c" and following in ("e", "i", "y"):
                classes.append("S")
            elif ch == "g" and following in ("e", "y"):
                classes.append("S")
            else:
                classes.append(_LETTER_CLASSES.get(ch, ""))
            i += 1
    return classes


def latin_skeleton(title: str) -> str:
    """Consonant classes of a Latin-script title as Korean spelling would keep them (a leading
    article is dropped: 매트릭스 is The Matrix)."""
    text = unicodedata.normalize("NFKD", title.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.findall(r"[a-z]+", text)
    if len(words) > 1 and words[0] in ("the", "a", "an"):
        words = words[1:]
    return _collapse([c for w in words for c in _latin_word(w)])
