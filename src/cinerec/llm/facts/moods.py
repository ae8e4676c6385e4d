"""Moods, qualities and styles a persona may say the viewer likes, and what supports them.

A persona writes the viewer's taste: "enjoys slow-burn sci-fi and noisier, more intense genres"
(Qwen 1.5B, words v20, for a viewer who wrote "slow-burn sci-fi, no horror"), "quirky indie
romances, which they find both entertaining and emotionally resonant" (v22en). Genres are
checked as genre claims; the words around them (a mood, a quality, an intensity, a style or a
sub-genre) are checked here, with a closed lexicon: each word belongs to a group of synonyms
(:data:`MOODS_EN`, :data:`MOODS_KO`), and a group is supported only when the viewer's own taste
text says a word of it, or the keywords of two ticked movies do (:func:`supported_moods`). The rest
of the persona prompt (ticked titles with their genres, the evidence lines: genres, people and
a decade) holds no mood word, so a persona has no other source for one.

Left out on purpose: words the taste parser reads as a genre ("funny", "scary", "romantic",
"suspense"), checked as genres; words that restate a genre ("thrilling", "adventurous",
"action-packed": Qwen 1.5B's "the thrill of action-packed scenes" for a viewer of action
films); and praise or words too common to be a claim ("classic", "great", "clever",
"entertaining", "light", "deep").

Example:
    >>> [(g, w) for _, _, g, w in mood_hits("They like noisier, more intense films.", "en")]
    [('noisy', 'noisier'), ('intense', 'intense')]
    >>> clerks, heathers = ["independent film", "dark comedy"], ["dark comedy"]
    >>> sorted(supported_moods("slow-burn sci-fi, no horror", [clerks, heathers]))
    ['dark', 'slow']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# group -> English words and phrases ("-" and " " are one), each matched as whole words
_GROUPS_EN: dict[str, tuple[str, ...]] = {
    "intense": (
        "intense", "intensity", "gripping", "hard hitting", "visceral", "edgy", "edgier",
        "adrenaline", "adrenaline fueled", "adrenaline pumping", "high octane", "explosive",
    ),
    "noisy": ("noisy", "noisier", "noisiest", "loud", "louder", "loudest"),
    "quirky": (
        "quirky", "quirkier", "offbeat", "eccentric", "whimsical", "zany", "oddball",
    ),
    "dark": (
        "dark", "darker", "darkest", "bleak", "grim", "gloomy", "brooding", "somber", "sombre",
    ),
    "gritty": ("gritty", "grittier", "realistic", "realism"),
    "light": (
        "light hearted", "lighthearted", "lighter", "breezy", "upbeat", "cheerful", "playful",
    ),
    "feel-good": (
        "feel good", "feeling good", "heartwarming", "heart warming", "uplifting", "wholesome",
        "charming",
    ),
    "emotional": (
        "emotional", "emotionally", "emotionally resonant", "emotionally charged", "resonant",
        "touching", "poignant", "heartfelt", "tear jerking", "tearjerker", "tearjerkers",
        "sentimental", "bittersweet", "melancholic", "melancholy", "sad",
    ),
    "thought-provoking": (
        "thought provoking", "cerebral", "intellectual", "philosophical", "philosophy",
        "profound", "nuanced", "sophisticated", "complex", "intricate", "layered", "intelligent",
        "mind bending", "intriguing", "intrigue",
    ),
    "fast-paced": (
        "fast paced", "fast moving", "high energy", "energetic", "frenetic",
    ),
    "slow": (
        "slow burn", "slow burning", "slow paced", "slow", "slower", "deliberate", "meditative",
        "contemplative", "understated", "subtle",
    ),
    "atmospheric": (
        "atmospheric", "moody", "eerie", "haunting", "surreal", "dreamlike", "dreamy",
    ),
    "violent": ("violent", "violence", "brutal", "bloody", "gory", "aggressive"),
    "indie": (
        "indie", "indies", "independent", "arthouse", "art house", "avant garde", "experimental",
    ),
    "mainstream": (
        "mainstream", "blockbuster", "blockbusters", "crowd pleasing", "crowd pleaser",
        "crowd pleasers",
    ),
    # not "adult" or "mature" alone: "a 35-year-old adult" describes the viewer, not a taste
    "adult": ("adult oriented", "for adults"),
    "epic": ("epic", "epics", "sweeping", "grand", "spectacle", "spectacular"),
    "twist": (
        "twist", "twists", "twisty", "twisted", "plot twist", "plot twists", "twist ending",
        "surprise ending",
    ),
    "satire": ("satire", "satirical", "satires"),
    "nostalgic": ("nostalgic", "nostalgia"),
    "cult": ("cult", "cult classic", "cult classics", "cult film"),
    "superhero": ("superhero", "superheroes", "comic book", "comic books"),
    "martial-arts": ("martial arts", "kung fu"),
    "spy": ("spy", "spies", "espionage"),
    "coming-of-age": ("coming of age",),
    "historical": ("historical", "period piece", "period pieces", "period drama"),
}  # fmt: skip
# group -> Korean stems, matched anywhere (particles and endings attach: 잔잔한, 어둡고)
_GROUPS_KO: dict[str, tuple[str, ...]] = {
    "intense": ("강렬", "박진감", "자극적"),
    "noisy": ("시끄러",),
    "quirky": ("기발", "독특", "엉뚱", "괴짜", "별난"),
    "dark": ("어두운", "어둡", "음울", "암울", "우울"),
    "gritty": ("사실적", "거친", "리얼리즘"),
    "light": ("가벼운", "가볍", "유쾌", "경쾌", "발랄"),
    "feel-good": ("따뜻", "훈훈", "힐링", "흐뭇"),
    "emotional": ("감성", "감동", "감정적", "뭉클", "눈물", "슬픈", "애틋", "서정"),
    "thought-provoking": ("철학", "사색", "생각할 거리", "생각하게", "지적인", "복잡", "심오"),
    "fast-paced": ("빠른 전개", "빠르게 전개", "속도감", "빠른 템포"),
    "slow": ("잔잔", "느린", "느리", "차분", "여운", "서서히"),
    "atmospheric": ("몽환", "기묘", "으스스"),
    "violent": ("폭력", "잔혹", "잔인", "공격적", "피비린"),
    "indie": ("독립 영화", "독립영화", "예술 영화", "예술영화", "인디 ", "인디영화"),
    "mainstream": ("블록버스터", "대중적", "흥행작"),
    "adult": ("성인용", "성인 취향"),  # not "성인" alone: "35세 성인 여성" is the viewer
    "epic": ("웅장", "스펙터클", "대서사", "서사시"),
    "twist": ("반전",),
    "satire": ("풍자",),
    "nostalgic": ("향수", "추억"),
    "cult": ("컬트",),
    "superhero": ("슈퍼히어로", "히어로"),
    "martial-arts": ("무술", "무협"),
    "spy": ("첩보", "스파이"),
    "coming-of-age": ("성장 영화", "성장물", "성장 드라마"),
    "historical": ("사극", "시대극"),  # not "역사": History is a genre of the catalog
}  # fmt: skip

MOODS_EN: dict[str, str] = {w: g for g, words in _GROUPS_EN.items() for w in words}
"""English mood, quality and style words (hyphens as spaces) -> their group."""
MOODS_KO: dict[str, str] = {w: g for g, words in _GROUPS_KO.items() for w in words}
"""Korean stems -> their group (the English group names)."""

_PATTERN_EN = re.compile(
    r"(?<![\w'])(?:"
    + "|".join(re.escape(w).replace(r"\ ", " ") for w in sorted(MOODS_EN, key=len, reverse=True))
    + r")(?![\w'])",
    re.IGNORECASE,
)
_PATTERN_KO = re.compile("|".join(re.escape(w) for w in sorted(MOODS_KO, key=len, reverse=True)))


def _spaced(text: str) -> str:
    """``text`` with its hyphens as spaces, of the same length (positions hold): "slow-burn"
    is "slow burn"."""
    return text.replace("-", " ").replace("\u2010", " ").replace("\u2011", " ")


def _matches(text: str, korean: bool) -> list[tuple[int, int, str, str]]:
    """``(start, end, group, word)`` of every lexicon word in ``text``: the English words, and
    with ``korean`` the Korean stems."""
    found = [
        (m.start(), m.end(), MOODS_EN[m.group().casefold()], text[m.start() : m.end()])
        for m in _PATTERN_EN.finditer(_spaced(text))
    ]
    if korean:
        found += [
            (m.start(), m.end(), MOODS_KO[m.group()], m.group().strip())
            for m in _PATTERN_KO.finditer(text)
        ]
    return found


def mood_hits(text: str, language: str) -> list[tuple[int, int, str, str]]:
    """``(start, end, group, word)`` of each lexicon word in ``text``: the English words in
    either language (a Korean text may write one), the Korean stems in Korean. An English word
    written with a capital after the sentence's first word is left out: it belongs to a name
    or a title ("Thor: The Dark World"), not to a taste.

    >>> [(g, w) for _, _, g, w in mood_hits("이 관객은 잔잔한 로맨스를 좋아합니다.", "ko")]
    [('slow', '잔잔')]
    >>> mood_hits("This viewer loves Dark City and Grim Tales.", "en")
    []
    """
    return sorted(
        (start, end, group, word)
        for start, end, group, word in _matches(text, korean=language == "ko")
        if not (word[:1].isupper() and text[:start].strip())
    )


def moods_in(text: str) -> set[str]:
    """The groups of the lexicon words in ``text`` (English and Korean alike).

    >>> sorted(moods_in("quirky indie romances")), sorted(moods_in("잔잔한 로맨스 영화"))
    (['indie', 'quirky'], ['slow'])
    """
    return {group for _, _, group, _ in _matches(text, korean=True)}


MIN_TICKS = 2
"""Ticked movies whose keywords must say a group for it to be the viewer's taste (as a person
enters the persona evidence only when in two ticked movies): one keyword of one movie is no
taste ("intelligent" of Despicable Me supported "nuanced and complex" historical dramas, and
"gun violence" of Collateral an "aggressive" taste, in words v22en and v20)."""


def supported_moods(
    taste: str | None, ticked_keywords: Iterable[Iterable[str]] = (), *, min_ticks: int = MIN_TICKS
) -> set[str]:
    """The groups a persona may attribute to the viewer: those of the words of their own
    ``taste`` text (either language), and those the keywords of at least ``min_ticks`` of the
    ticked movies say (``ticked_keywords``: each movie's keywords; "independent film" says
    "indie", "dark comedy" says "dark")."""
    counts = Counter(
        group
        for keywords in ticked_keywords
        for group in set().union(*(moods_in(k) for k in keywords))
    )
    return moods_in(taste or "") | {g for g, n in counts.items() if n >= min_ticks}
