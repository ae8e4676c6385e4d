"""Checks and repairs for the texts of a curated post (see :mod:`cinerec.llm.posts.compose`).

A caption line or one-line review is cleaned (markup, whitespace, a clean end when the grammar
cut it off, length) and must be: free of unknown titles (:mod:`cinerec.llm.grounding`) and of
other candidates' titles; free of person or place names its movie's facts lack; in the post's
language; not looping; not a copy of the prompt's examples; for caption lines, unlike the other
lines. :func:`synopsis_review` and :func:`repair_caption` give the plain, flagged lines used
when the model's stay unusable.

Example:
    >>> check_caption(["Rain outside.", "Warm picks.", "Press play."], [], theme="rain",
    ...               language="en")
    ('Rain outside.\\nWarm picks.\\nPress play.', [])
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from cinerec.data.types import Movie
from cinerec.llm.facts import false_facts
from cinerec.llm.grounding import clean_free_text, find_unknown_titles, sanitize_user_text
from cinerec.text.lang import GENRES_KO, HANGUL_LETTER, LANGUAGES, OTHER_CJK
from cinerec.text.similarity import plain_text, text_similarity

CAPTION_LINES = 3
MAX_CAPTION_LINE_CHARS = {"en": 90, "ko": 60}
MAX_REVIEW_CHARS = {"en": 120, "ko": 80}
MIN_TEXT_CHARS = 6

_ENDINGS = (".", "!", "?", "…", "。", '"', "'", "”", "’", ")")
_ALIKE_LINES = 0.6
# A review that near-copies an example is about the example's movie; a caption line may reuse an
# example's pattern with the theme ("Which one starts your rainy day?"), only not paste it.
_COPIED_CAPTION = 0.95
_DANGLING = frozenset(
    "a an the and or but of at in on to with for from by as its their his her".split()
)
_NAME = re.compile(r"(?<![\w'’])[A-Z][a-zA-Z'’]{2,}")
_COMMON_CAPITALIZED = frozenset({"The", "And", "But", "For", "With", "Hollywood", "Oscar"})


def language_ok(text: str, language: str) -> bool:
    """Whether a short text is plausibly in ``language`` (small models drift into Chinese)."""
    if OTHER_CJK.search(text):
        return False
    letters = sum(ch.isalpha() for ch in text)
    hangul = len(HANGUL_LETTER.findall(text))
    if language == "ko":
        return hangul >= max(2, 0.3 * letters)
    return hangul <= 0.25 * max(letters, 1)


def bounded(text: str, limit: int) -> str:
    """Whitespace collapsed and at most ``limit`` characters (cut at a word, with "…")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip(" ,;:-") + "…"


def tidy_cut(text: str, limit: int) -> str:
    """A line the grammar cut off at ``limit`` ends cleanly: at its last sentence end when that
    keeps most of it, else at a comma or word with "…". Finished lines are left alone."""
    text = text.strip()
    if len(text) < 0.8 * limit or text.endswith(_ENDINGS):
        return text
    end = max(text.rfind(ch) for ch in ".!?。")
    if end >= 0.4 * len(text):
        return text[: end + 1]
    comma = max(text.rfind(ch) for ch in ",;:—")
    cut = comma if comma >= 0.5 * len(text) else text.rfind(" ")
    words = (text[:cut] if cut > 0 else text).rstrip(" ,;:-—").split(" ")
    while len(words) > 1 and words[-1].casefold() in _DANGLING:  # "... goes wrong at the"
        words.pop()
    return " ".join(words).rstrip(" ,;:-—") + "…"


def _names(movie: Movie) -> list[str]:
    return [*movie.genres, *movie.cast[:5], *([movie.director] if movie.director else [])]


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _names_other(text: str, movie: Movie, others: Sequence[Movie]) -> bool:
    """Whether ``text`` names another candidate's title, word-bounded. A one-word title counts
    only when written as in the catalog (capitalized), so "it builds up" does not name "Up"."""
    padded = f" {_words(text)} "
    for other in others:
        title = _words(other.title)
        if other.movie_id == movie.movie_id or not title:
            continue
        if " " in title:
            if f" {title} " in padded:
                return True
        elif len(title) >= 3 and re.search(rf"(?<!\w){re.escape(other.title)}(?!\w)", text):
            return True
    return False


def repeats_itself(text: str) -> bool:
    """Whether a line loops ("a thriller of a thriller of a thriller…"): of six or more words,
    fewer than half are distinct; or one word three times in a row (Qwen 0.5B under the Korean
    allow list: "Henry Hill, 아름다운 아름다운 아름다운 …", cut at 80 characters)."""
    words = plain_text(text).split()
    thrice = any(a == b == c for a, b, c in zip(words, words[1:], words[2:], strict=False))
    return thrice or len(words) >= 6 and len(set(words)) < 0.5 * len(words)


def _copies(text: str, forbidden: Sequence[str], threshold: float = 0.8) -> bool:
    return any(text_similarity(text, line) >= threshold for line in forbidden)


def movie_facts_text(movie: Movie) -> str:
    """Everything the catalog says about ``movie``, case-folded, for grounding checks."""
    parts = [movie.title, movie.overview, movie.description, movie.director or "",
             *movie.genres, *movie.cast, *movie.keywords]  # fmt: skip
    return " ".join(parts).casefold()


def unknown_names(text: str, facts: str, markers: Sequence[str] = ()) -> list[str]:
    """Names in ``text`` the facts do not have: capitalized Latin words not opening a sentence
    (a character or place from another movie), and ``markers`` (words of the prompt's example
    answers) that the facts lack."""
    found = []
    for match in _NAME.finditer(text):
        before = text[: match.start()].rstrip()
        if not before or before[-1] in '.!?:;"“(-–—':
            continue  # a sentence opener is capitalized anyway
        word = re.sub(r"['’]s?$", "", match.group(0))  # "Sally's" is Sally
        if word.casefold() not in facts and word not in _COMMON_CAPITALIZED:
            found.append(word)
    lowered = text.casefold()
    found += [m for m in markers if m in lowered and m not in facts]
    return found


def check_review(
    text: str,
    movie: Movie,
    others: Sequence[Movie],
    *,
    theme: str,
    language: str,
    forbidden: Sequence[str] = (),
    markers: Sequence[str] = (),
) -> tuple[str, str | None]:
    """Clean one one-liner and say what is wrong with it.

    Returns:
        ``(cleaned text, problem)``; ``problem`` is None when the line is usable: non-empty after
        grounding (no unknown title, no other candidate's title), in ``language``, bounded,
        not a copy of a ``forbidden`` line (the prompt's examples), and naming no person or
        place the movie's facts lack (see :func:`unknown_names`), and holding no false genre,
        person role or year by the fact checker (:func:`cinerec.llm.facts.false_facts`); the
        writer then asks again, warmer, and at last shows the synopsis line (flagged).
    """
    cleaned, removed = clean_free_text(
        tidy_cut(text, MAX_REVIEW_CHARS[language]),
        [movie.title],
        allowed=[*_names(movie), theme],
        max_chars=MAX_REVIEW_CHARS[language],
    )
    cleaned = bounded(cleaned, MAX_REVIEW_CHARS[language])
    if _names_other(cleaned, movie, others):
        return "", f"the review of {movie.movie_id} names another candidate"
    if len(cleaned) < MIN_TEXT_CHARS:
        why = "named a movie that is not a candidate" if removed else "was empty"
        return "", f"the review of {movie.movie_id} {why}"
    if _words(cleaned) == _words(movie.title):
        return "", f"the review of {movie.movie_id} only repeats the title"
    if repeats_itself(cleaned):
        return "", f"the review of {movie.movie_id} repeats itself"
    if not language_ok(cleaned, language):
        return "", f"the review of {movie.movie_id} is not in {LANGUAGES[language]}"
    if _copies(cleaned, forbidden):
        return "", f"the review of {movie.movie_id} copies the example"
    allowed = f"{movie_facts_text(movie)} {theme.casefold()}"
    if names := unknown_names(cleaned, allowed, markers):
        return "", f"the review of {movie.movie_id} names {names[0]!r}, which its facts lack"
    if wrong := false_facts(cleaned, [movie, *others], language=language, subject=movie):
        claim = wrong[0].claim
        return "", (
            f"the review of {movie.movie_id} says {claim.kind} {claim.span!r} ({wrong[0].why})"
        )
    return cleaned, None


def caption_line_problems(
    lines: Sequence[str],
    picks: Sequence[Movie],
    *,
    theme: str,
    language: str,
    forbidden: Sequence[str] = (),
) -> tuple[list[str], dict[int, str]]:
    """Cleaned caption lines and what is wrong with each bad one (by 0-based index).

    A line must be non-empty, name no movie outside ``picks``, be in ``language``, not copy a
    ``forbidden`` line (the prompt's example), not repeat an earlier line, and say nothing
    false about a pick it names (:func:`cinerec.llm.facts.false_facts`).
    """
    limit = MAX_CAPTION_LINE_CHARS[language]
    titles = [m.title for m in picks]
    allowed = [theme, *(name for m in picks for name in _names(m))]
    cleaned = [bounded(tidy_cut(sanitize_user_text(line, 400), limit), limit) for line in lines]
    bad: dict[int, str] = {}
    for k, line in enumerate(cleaned):
        if len(line) < 2:
            bad[k] = f"caption line {k + 1} was empty"
        elif unknown := find_unknown_titles(line, titles, allowed=allowed):
            bad[k] = f"caption line {k + 1} names {unknown[0]!r}, which is not a pick"
        elif not language_ok(line, language):
            bad[k] = f"caption line {k + 1} is not in {LANGUAGES[language]}"
        elif repeats_itself(line):
            bad[k] = f"caption line {k + 1} repeats itself"
        elif _copies(line, forbidden, _COPIED_CAPTION):
            bad[k] = f"caption line {k + 1} copies the example"
        elif same := [j for j in range(k) if text_similarity(line, cleaned[j]) >= _ALIKE_LINES]:
            bad[k] = f"caption lines {same[0] + 1} and {k + 1} say the same thing"
        elif wrong := false_facts(line, picks, language=language):
            bad[k] = f"caption line {k + 1} says {wrong[0].claim.span!r} ({wrong[0].why})"
    return cleaned, bad


def check_caption(
    lines: Sequence[str],
    picks: Sequence[Movie],
    *,
    theme: str,
    language: str,
    forbidden: Sequence[str] = (),
) -> tuple[str, list[str]]:
    """The caption text (cleaned lines joined by ``\n``) and its problems (see
    :func:`caption_line_problems`; also exactly three lines)."""
    cleaned, bad = caption_line_problems(
        lines, picks, theme=theme, language=language, forbidden=forbidden
    )
    problems = list(bad.values())
    if len(lines) != CAPTION_LINES:
        problems.insert(0, f"the caption had {len(lines)} lines, not {CAPTION_LINES}")
    return "\n".join(cleaned), problems


_CAPTION_TEMPLATES = {
    "en": ("{theme}: a few movies for the mood.", "Well loved, and each in its own way.",
           "Which one are you watching tonight?"),
    "ko": ("{theme}, 이런 영화 어때요?", "많은 사람이 사랑한, 저마다 다른 영화들.",
           "오늘 밤엔 어떤 영화를 볼까요?"),
}  # fmt: skip


def repair_caption(
    lines: Sequence[str], bad: Mapping[int, str], *, theme: str, language: str
) -> list[str]:
    """The caption with each bad line replaced by a plain template line for its role (hook,
    mood, invitation); the last resort when retries did not give three good lines."""
    templates = _CAPTION_TEMPLATES[language]
    subject = bounded(theme, 40)
    subject = subject[:1].upper() + subject[1:] if language == "en" else subject
    return [
        templates[k].format(theme=subject) if k in bad else line
        for k, line in enumerate(lines[:CAPTION_LINES])
    ]


def synopsis_review(movie: Movie, language: str) -> str:
    """A factual one-liner from the catalog, used when the model's stay unusable."""
    genres = [g for g in movie.genres if g in GENRES_KO and g != "IMAX"]  # a format, not a genre
    if language == "ko":
        parts = [
            f"{movie.year}년" if movie.year else "",
            ", ".join(GENRES_KO[g] for g in genres[:3]),
            "영화",
        ]
        line = " ".join(p for p in parts if p)
        if movie.director:
            line += f", {movie.director} 감독 작품"
        return bounded(line + ".", MAX_REVIEW_CHARS["ko"])
    first = re.split(r"(?<=[.!?])\s", " ".join(movie.overview.split()), maxsplit=1)[0]
    if first:
        return bounded(first, MAX_REVIEW_CHARS["en"])
    kinds = "/".join(genres[:2]).lower() or "feature"
    by = f" directed by {movie.director}" if movie.director else ""
    return bounded(f"A {movie.year or ''} {kinds} film{by}.".replace("  ", " "), 110)
