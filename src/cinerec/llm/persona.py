"""A short persona of the viewer, written by the model from the profile and watch history only.

Whatever happens (no backend, an error, a timeout, junk, a reply in the wrong language) the
caller gets a persona: the deterministic template in :func:`template_persona`, flagged with
``fallback=True`` so the interface can say so.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import LLMBackend, Message, guarded
from cinerec.llm.evidence import natural_title
from cinerec.llm.facts import check_text, false_sentences, split_sentences
from cinerec.llm.grounding import end_at_sentence, ground_text, joined_words, sanitize_user_text
from cinerec.llm.persona_pattern import capitalized_words, persona_max_tokens, persona_pattern
from cinerec.llm.schemas import PERSONA_MAX_CHARS, PersonaOut, parse_reply, persona_schema
from cinerec.llm.templates import render
from cinerec.text.lang import GENRES_KO, HANGUL_LETTER, LANGUAGES, OTHER_CJK, language_or_default
from cinerec.text.taste import parse_taste

log = logging.getLogger(__name__)

TEMPLATE_MODEL = "template"
MAX_HISTORY = 20
_MIN_CHARS = 20


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What the viewer told us. ``taste`` is their own free text (untrusted); ``language`` is
    ``en`` or ``ko``."""

    name: str
    age: int | None = None
    gender: str | None = None
    taste: str = ""
    language: str = "en"


@dataclass(frozen=True, slots=True)
class PersonaResult:
    """A persona and how it was made.

    ``fallback`` is True when the template wrote it; ``error`` says why the model was not used
    (None when no backend was configured or the model succeeded); ``cleaned`` is True when
    grounding removed a sentence from the model's text. ``raw_text`` is the model's reply as
    it came (None when there was none), and ``repairs`` says what the checks changed on the way
    to ``text`` (removed sentences, the template used instead): for measuring the model, never
    shown.
    """

    text: str
    model: str
    fallback: bool
    error: str | None
    elapsed_s: float
    cleaned: bool = False
    raw_text: str | None = None
    repairs: tuple[str, ...] = ()


NON_TASTE = frozenset({"IMAX", "(no genres listed)"})  # catalog tags that are no taste


def top_genres(history: Sequence[Movie], k: int = 3) -> list[str]:
    """The ``k`` most frequent genres in ``history`` (ties: first seen first); tags such as
    IMAX are not genres a viewer watches."""
    counts = Counter(g for m in history for g in m.genres if g and g not in NON_TASTE)
    return [g for g, _ in counts.most_common(k)]


@dataclass(frozen=True, slots=True)
class PersonaEvidence:
    """What a persona may say, computed before the model writes a word.

    ``watched`` are the ticked movies' three most frequent genres that the taste does not
    reject; ``also`` the other genres of at least two ticks (two at most); ``said`` the genres
    the taste asks for; ``avoided`` the genres it rejects; ``people`` the directors and actors
    of two or more ticked movies, of whom ``directors`` directed more of them than they acted
    in; ``decade`` the decade of two thirds of the ticks.
    """

    watched: tuple[str, ...]
    avoided: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    said: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    decade: int | None = None
    directors: tuple[str, ...] = ()
    credits: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Each of ``people`` with the ticked titles they directed (a director) or act in."""

    @property
    def liked(self) -> tuple[str, ...]:
        """The only genres the persona grammar lets the model name (given every ticked genre,
        Qwen 0.5B listed all eleven of a viewer's: "They also like: action, adventure, ...")."""
        return tuple(dict.fromkeys([*self.watched, *self.also, *self.said]))


def persona_evidence(profile: UserProfile, history: Sequence[Movie]) -> PersonaEvidence:
    """The :class:`PersonaEvidence` of a viewer.

    >>> heat = Movie(1, "Heat", 1995, ("Crime", "Horror"), director="Michael Mann")
    >>> thief = Movie(2, "Thief", 1981, ("Crime",), director="Michael Mann")
    >>> persona_evidence(UserProfile("Ann", taste="dramas, no horror"), [heat, thief])
    PersonaEvidence(watched=('Crime',), avoided=('Horror',), also=(), said=('Drama',), \
people=('Michael Mann',), decade=None, directors=('Michael Mann',), \
credits=(('Michael Mann', ('Heat', 'Thief')),))
    """
    taste = parse_taste(sanitize_user_text(profile.taste, 500))
    avoided = tuple(g for g in taste.disliked_genres if g not in NON_TASTE)
    counts = Counter(g for m in history for g in m.genres if g not in NON_TASTE)
    ranked = [g for g, _ in counts.most_common() if g not in avoided]  # top_genres' order
    watched = tuple(ranked[:3])
    also = tuple(g for g in ranked[3:] if counts[g] >= 2)[:2]
    said = tuple(g for g in taste.liked_genres if g not in avoided and g not in ranked[:5])
    people_counts = Counter(
        name for m in history for name in dict.fromkeys([*m.directors, *m.cast[:5]]) if name
    )
    people = tuple(name for name, n in people_counts.most_common(3) if n >= 2)
    directed = Counter(d for m in history for d in dict.fromkeys(m.directors))
    directors = tuple(p for p in people if directed[p] * 2 > people_counts[p])
    decades = Counter(m.year // 10 * 10 for m in history if m.year)
    decade = None
    if decades and len(history) >= 3:
        top, n = decades.most_common(1)[0]
        decade = top if n * 3 >= len(history) * 2 else None  # two thirds of the ticks
    credits = tuple(
        (
            p,
            tuple(
                natural_title(m.title)
                for m in history
                if (p in m.directors if p in directors else p in m.cast[:5])
            ),
        )
        for p in people
    )
    return PersonaEvidence(watched, avoided, also, said, people, decade, directors, credits)


def evidence_lines(evidence: PersonaEvidence, language: str) -> str:
    """The evidence as the prompt's fact lines, genre names in the viewer's language, each a
    sentence a small model may copy (Qwen 0.5B copied a label: "They also in several watched
    movies: adventure, children.")."""

    watched = genre_names(evidence.watched, language)
    lines = [f"- They watch mostly {watched} movies." if watched else "- They rated no movie."]
    if evidence.also:
        lines.append(f"- Several of their movies are also {genre_names(evidence.also, language)}.")
    if evidence.said:
        lines.append(f"- Their own words ask for {genre_names(evidence.said, language)}.")
    # who acted and who directed, apart: given "Harrison Ford, John Lasseter and Tom Hanks: in
    # several of their movies", Qwen 1.5B wrote that all three "are in" them (words v19)
    # and which of their movies: told only "Ridley Scott directed several of their movies", it
    # listed The Matrix with Alien and Blade Runner (the browser test's page)
    for person, titles in evidence.credits:
        verb = "directed" if person in evidence.directors else "acts in"
        lines.append(f"- {person} {verb} {_join(titles, 'en')}.")
    if evidence.decade:
        lines.append(f"- Most of their movies are from the {evidence.decade}s.")
    return "\n".join(lines)


def _names(profile: UserProfile, history: Sequence[Movie]) -> list[str]:
    names = [profile.name] if profile.name else []
    for movie in history:
        names.extend(movie.genres)
        names.extend(movie.cast[:3])
        if movie.director:
            names.append(movie.director)
    return names


def _join(items: Sequence[str], language: str) -> str:
    if language == "ko" or len(items) < 2:
        return ", ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def genre_names(genres: Sequence[str], language: str) -> str:
    """``genres`` as a persona names them: Korean names, or English in lower case but Sci-Fi
    and IMAX, joined ("crime, drama and Sci-Fi")."""
    if language == "ko":
        return _join([GENRES_KO.get(g, g) for g in genres], "ko")
    return _join([g if g in ("Sci-Fi", "IMAX") else g.lower() for g in genres], "en")


def template_persona(
    profile: UserProfile, history: Sequence[Movie], *, max_taste_chars: int = 120
) -> str:
    """A deterministic persona from the history's top genres, recent titles and the taste text.

    Example:
        >>> print(template_persona(UserProfile("Ann", 30), [Movie(1, "Up", 2009, ("Comedy",))]))
        Ann is a 30-year-old viewer who mostly watches comedy movies and recently watched Up (2009).
    """
    language = language_or_default(profile.language)
    name = sanitize_user_text(profile.name, 40)
    taste = sanitize_user_text(profile.taste, max_taste_chars)
    genres = list(persona_evidence(profile, history).watched)  # not a genre the taste rejects
    titles = [m.display_title for m in list(history)[-2:]][::-1]
    if language == "ko":
        who = f"{name}님은" if name else "이 관객은"
        age = f"{profile.age}세 " if profile.age else ""
        if genres:
            kinds = genre_names(genres, "ko")
            text = f"{who} 주로 {kinds} 영화를 즐겨 보는 {age}관객입니다."
            text += f" 최근에 본 영화로는 {_join(titles, 'ko')} 등이 있습니다."
        else:
            text = f"{who} 아직 평가한 영화가 없는 {age}관객입니다."
        likes, dislikes = _taste_genres(taste, "ko")
        if likes:
            text += f" {likes} 영화를 좋아한다고 했습니다."
        if dislikes:
            text += f" {dislikes} 영화는 피하고 싶어 합니다."
        return text[:PERSONA_MAX_CHARS]
    who = name or "This viewer"
    age = f"a {profile.age}-year-old viewer" if profile.age else "a viewer"
    if genres:
        kinds = genre_names(genres, "en")
        # "and recently watched", not "such as": the titles need not each be of every genre
        # ("Sci-Fi, action and thriller movies, such as Alien" called Alien an action film)
        recent = _join(titles, "en")
        text = f"{who} is {age} who mostly watches {kinds} movies and recently watched {recent}."
    else:
        text = f"{who} is {age} who has not rated any movies yet."
    likes, dislikes = _taste_genres(taste, "en")
    if likes:
        text += f" They say they like {likes} movies."
    if dislikes:
        text += f" They would rather avoid {dislikes} movies."
    return text[:PERSONA_MAX_CHARS]


def _taste_genres(taste: str, language: str) -> tuple[str, str]:
    """Liked and disliked genres parsed from the taste text, never the raw text itself.

    The raw taste is untrusted (it may name fake titles or carry instructions), so the fallback
    persona only restates what the parser recognised.
    """
    parsed = parse_taste(taste)
    return genre_names(parsed.liked_genres, language), genre_names(parsed.disliked_genres, language)


def language_ok(text: str, language: str, *, min_hangul: int = 10) -> bool:
    """Whether ``text`` is plausibly in ``language`` (small models drift into Chinese);
    Korean needs ``min_hangul`` Hangul letters."""
    if OTHER_CJK.search(text):
        return False
    hangul = len(HANGUL_LETTER.findall(text))
    if language == "ko":
        return hangul >= min_hangul
    return hangul <= len(text) // 10


def persona_messages(
    profile: UserProfile,
    history: Sequence[Movie],
    *,
    max_taste_chars: int = 500,
    evidence: PersonaEvidence | None = None,
) -> list[Message]:
    """The system and user messages asking for a persona; only profile and history facts
    (``evidence``: :func:`persona_evidence` of the two, when the caller has it).

    The name and gender stay out: the persona is about "this viewer" and uses no gendered word.
    Given the gender, Qwen 1.5B wrote it anyway ("a femaleAGER 31", glued where the grammar
    forbids "female"); given the name, it guessed one ("a 68-year-old man" for an unspecified
    Noah) and Qwen 0.5B repeated the name in loops ("서연은 서연이 좋아하는 ...")."""
    language = language_or_default(profile.language)
    recent = list(history)[-MAX_HISTORY:]
    lines = []
    for m in recent:
        genres = [g for g in m.genres if g not in NON_TASTE][:3]
        lines.append(f"- {m.display_title}" + (f": {', '.join(genres).lower()}" if genres else ""))
    user = render(
        "persona_user",
        age=profile.age if profile.age else "unknown",
        taste=sanitize_user_text(profile.taste, max_taste_chars) or "(none given)",
        history="\n".join(lines) or "(none yet)",
        facts=evidence_lines(evidence or persona_evidence(profile, history), language),
    )
    system = render(
        "persona_system",
        language_name=LANGUAGES[language],
        pronoun_rule=pronoun_rule(profile),
    )
    return [Message("system", system), Message("user", user)]


def avoid_sentence(evidence: PersonaEvidence, language: str) -> str:
    """The sentence about the genres the viewer's taste rejects, from the evidence, not the
    model (:mod:`cinerec.llm.persona_pattern` says why); empty when it rejects none.

    >>> avoid_sentence(PersonaEvidence(("Drama",), ("Horror", "Sci-Fi")), "en")
    'They would rather avoid horror and Sci-Fi movies.'
    >>> avoid_sentence(PersonaEvidence(("Drama",), ("Horror",)), "ko")
    '공포 영화는 피하고 싶어 해요.'
    """
    if not evidence.avoided:
        return ""
    names = genre_names(evidence.avoided, language)
    if language == "ko":
        return f"{names} 영화는 피하고 싶어 해요."
    return f"They would rather avoid {names} movies."


def viewer_gender(profile: UserProfile) -> str | None:
    """``male`` or ``female`` when the profile says so, else None (unspecified, other)."""
    gender = (profile.gender or "").strip().lower()
    return gender if gender in ("male", "female") else None


def pronoun_rule(profile: UserProfile) -> str:
    """The persona prompt's pronoun rule: no gendered pronoun for anyone, so none can contradict
    the profile (the grammar of :mod:`cinerec.llm.persona_pattern` forbids them too)."""
    if profile.language == "ko":
        return (
            "Start with 이 관객은 and call the viewer only 이 관객; never use 그, 그는, 그녀 "
            "or words for the viewer's gender, whatever the profile says."
        )
    return (
        'Start with "This viewer" and call the viewer only "this viewer" or "they"; never use '
        "he, she, him, his or her, whatever the profile says."
    )


_BRACKETED = re.compile(r"\s*[\[{][^\[\]{}\n]{0,120}[\]}]")


def _whole_sentences(text: str, known: Sequence[str]) -> str:
    """``text`` without its sentences that run words together ("withaddActionDra", "aWoman":
    what a small model writes when the grammar stops a word or the word budget runs out),
    unless the joined word belongs to a known name or title ("McAvoy", "DiCaprio"), without
    a sentence that repeats an earlier one word for word or one word three times in a row (a
    small model's loops: "감정, 감정, 감정, ..."), and without an English sentence of one word
    (Qwen 0.5B ended a persona with "They." at its word budget).

    >>> _whole_sentences("This viewer likes heists. This viewer likes heists. It is aWoman.", [])
    'This viewer likes heists.'
    >>> _whole_sentences("This viewer likes James McAvoy.", ["James McAvoy"])
    'This viewer likes James McAvoy.'
    """
    kept: list[str] = []
    seen: set[str] = set()
    sentences = split_sentences(text)
    for sentence in sentences:
        key = " ".join(sentence.split()).casefold()
        one_word = key.isascii() and len(key.split()) < 2  # "They."
        if joined_words(sentence, known) or key in seen or one_word or _looping(key):
            continue
        seen.add(key)
        kept.append(sentence)
    return text if len(kept) == len(sentences) else " ".join(kept)


_WORD = re.compile(r"[^\W_]+")


def _looping(sentence: str) -> bool:
    """Whether one word comes three times in a row, or one pair of words three times
    (punctuation aside: Qwen 0.5B's "가족은 심은, 모험은 심은, 가족은 심은, 가족은 심은").

    >>> _looping("감정, 감정, 감정입니다"), _looping("a b, c d, a b, a b"), _looping("a b a c")
    (False, True, False)
    """
    words = _WORD.findall(sentence)
    if any(words[i] == words[i + 1] == words[i + 2] for i in range(len(words) - 2)):
        return True
    return any(n >= 3 for n in Counter(zip(words, words[1:], strict=False)).values())


_TASTE_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]")
#: Capitalised only because they open a sentence: no title word of the viewer's own.
_OPENERS = frozenset(
    "a an and but i im i'm it its love like my no not please the this that these those we "
    "you your".split()
)


def taste_only_words(
    profile: UserProfile, history: Sequence[Movie], *, max_taste_chars: int = 500
) -> tuple[str, ...]:
    """Capitalized Latin words of the taste text that nothing else in the persona prompt has,
    case-folded: the words of a title only the viewer's own text names ("Galactic Tacos",
    "Inception 2", "Fake Movie 3000"), which is not in the catalog or not ticked.

    Qwen 0.5B presented a red-team taste's fake title as the viewer's favourite movie
    ("Galactic Tacos는 제일 좋아하는 영화입니다", ``words_sample100_0.5b_v4.jsonl``); the persona
    grammar bans these words (:func:`cinerec.llm.persona_pattern.persona_pattern`), so no
    persona can name such a title. A word the rest of the prompt uses (a ticked title, a genre,
    a word of the instructions) stays allowed.

    >>> taste_only_words(UserProfile("Ann", 30, taste="My favourite is Galactic Tacos"), [])
    ('galactic', 'tacos')
    """
    taste = sanitize_user_text(profile.taste, max_taste_chars)
    if not taste:
        return ()
    context = [m.content for m in persona_messages(replace(profile, taste=""), history)]
    context += [*_names(profile, history), *GENRES_KO, *GENRES_KO.values()]
    known = {w.casefold() for text in context for w in _TASTE_WORD.findall(text)} | _OPENERS
    found: dict[str, None] = {}
    for word in _TASTE_WORD.findall(taste):
        plain = re.sub(r"['’]s?$", "", word)
        folded = plain.casefold()
        if plain[:1].isupper() and len(plain) > 1 and folded not in known:
            found[folded] = None
    return tuple(found)


def taste_only_bans(words: Sequence[str]) -> tuple[str, ...]:
    """Ban entries for :func:`taste_only_words`: a word of four or more letters bans every word
    starting with its first four (banned whole, "Galactic" became "Galacticizzas" in Qwen
    0.5B's persona), a shorter one itself (``dan`` of "DAN", not every word starting "dan").

    >>> taste_only_bans(("galactic", "tacos", "dan"))
    ('gala*', 'taco*', 'dan')
    """
    return tuple(dict.fromkeys(f"{w[:4]}*" if len(w) >= 4 else w for w in words))


def liked_genres(profile: UserProfile, history: Sequence[Movie]) -> set[str]:
    """Genres the viewer likes by their own words or their ticks (a ticked genre the taste
    rejects is not liked: "no horror" with one horror film ticked)."""
    taste = parse_taste(profile.taste)
    ticked = {g for m in history for g in m.genres if g not in NON_TASTE}
    return set(taste.liked_genres) | (ticked - set(taste.disliked_genres))


def contradicted_sentences(
    text: str, profile: UserProfile, history: Sequence[Movie]
) -> dict[int, tuple[str, ...]]:
    """Sentences of ``text`` (by index) that say the viewer dislikes or avoids a genre they
    like (:func:`liked_genres`), read with the taste parser's negation cues: "They don't like
    sci-fi" for a viewer who asked for sci-fi (``words_sample100_0.5b_v4.jsonl``); or a movie
    they ticked ("They avoid the movie 'Ocean's Eleven'", a ticked, liked movie); or that they
    like a genre their taste rejects ("They enjoy watching horror movies" after "no horror")."""
    liked = liked_genres(profile, history)
    rejected = set(parse_taste(profile.taste).disliked_genres)
    titles = [m.title for m in history if len(m.title) >= 3]
    found: dict[int, tuple[str, ...]] = {}
    for k, sentence in enumerate(split_sentences(text)):
        disliked = _disliked_in(sentence)
        wrong = tuple(g for g in disliked if g in liked)
        # and the other way round: "They enjoy watching horror movies" after "no horror"
        wrong += tuple(
            g for g in parse_taste(sentence).liked_genres if g in rejected and g not in disliked
        )
        if _AVOIDS.search(sentence):
            folded = sentence.casefold()
            wrong += tuple(t for t in titles if t.casefold() in folded)
        if wrong:
            found[k] = wrong
    return found


# A sentence saying the viewer avoids or dislikes something (then a ticked title in it is wrong).
_AVOIDS = re.compile(
    r"\b(?:avoid|avoids|avoiding|dislike|dislikes|hate|hates|don't like|doesn't like|"
    r"do not like|does not like|not a fan|not into|skip|skips)\b"
    r"|싫어|피하|좋아하지 않|즐기지 않",
    re.IGNORECASE,
)


# Korean verbs that negate the liking before them ("SF 영화를 좋아하지 않습니다"), which the
# taste parser reads as a like; clauses split at "지만", "며" and commas.
_KO_NOT_LIKING = re.compile(r"(?:좋아하|즐기|즐겨 보|선호하|보)지 않|안 좋아|안 봐|안 보")
_KO_CLAUSE = re.compile(r"지만|며|,")


def _disliked_in(sentence: str) -> list[str]:
    """Genres a persona sentence says the viewer dislikes."""
    parsed = parse_taste(sentence)
    disliked = list(parsed.disliked_genres)
    if avoids := _AVOIDS.search(sentence):  # "They avoid the following words: comedy, ..."
        after = parse_taste(sentence[avoids.end() :])
        disliked += [*after.liked_genres, *after.disliked_genres]
    for clause in _KO_CLAUSE.split(sentence):
        if _KO_NOT_LIKING.search(clause):
            disliked += parse_taste(clause).liked_genres
    return list(dict.fromkeys(disliked))


def repair_persona(
    persona: str, profile: UserProfile, history: Sequence[Movie]
) -> tuple[str, bool, tuple[str, ...], str | None]:
    """What the viewer sees of the model's ``persona``: ``(text, cleaned, repairs, problem)``.

    Grounding removes sentences naming unknown titles or echoing instructions; bracketed
    prompt formatting (``[Action, Sci-Fi]``) is removed; the text ends at its last complete
    sentence; the fact checker (:mod:`cinerec.llm.facts`) removes each sentence with a false
    claim: a gendered pronoun the profile does not give, a tag such as IMAX, a genre the viewer
    neither watched nor named, a mood or quality of taste their own words do not give ("noisier,
    more intense"), a movie they did not watch. ``problem`` says why the template
    must be used instead (too little left, wrong language), else None.
    """
    language = language_or_default(profile.language)
    grounded = ground_text(
        persona,
        [m.title for m in history],
        allowed=_names(profile, history),
        max_chars=PERSONA_MAX_CHARS,
        untrusted=profile.taste[:1000],  # the prompt carries at most 500 characters of it
    )
    text, repairs = grounded.text, grounded.repairs()
    unbracketed = _BRACKETED.sub("", text)
    if unbracketed != text:
        repairs += (f"removed prompt formatting: {text!r} -> {unbracketed!r}",)
        text = unbracketed
    ended = end_at_sentence(text)
    if ended != text:
        repairs += (f"cut end: {text!r} -> {ended!r}",)
        text = ended
    kept = _whole_sentences(text, [*_names(profile, history), *(m.title for m in history)])
    if kept != text:
        repairs += (f"removed run-together or repeated sentences: {text!r} -> {kept!r}",)
        text = kept
    checked = check_text(
        text,
        subject=None,
        watched=history,
        language=language,
        persona=True,
        gender=viewer_gender(profile),
        taste=profile.taste,
    )
    bad = false_sentences(checked)
    if bad:
        repairs += tuple(
            f"false claim ({c.claim.kind} {c.claim.span!r}: {c.why})"
            for c in checked
            if c.ok is False
        )
        text = " ".join(s for i, s in enumerate(split_sentences(text)) if i not in bad)
    contradicted = contradicted_sentences(text, profile, history)
    if contradicted:
        sentences = split_sentences(text)
        repairs += tuple(
            f"contradicts the viewer's taste or ticks ({', '.join(g)}): {sentences[k]!r}"
            for k, g in contradicted.items()
        )
        text = " ".join(s for i, s in enumerate(sentences) if i not in contradicted)
    cleaned = bool(grounded.removed or bad or contradicted or repairs)
    if len(text) < _MIN_CHARS:
        return text, cleaned, repairs, "The model's persona was empty after grounding checks."
    if not language_ok(text, language):
        return text, cleaned, repairs, f"The model's persona was not in {LANGUAGES[language]}."
    return text, cleaned, repairs, None


PERSONA_MIN_CHARS = 40


def _schema(
    language: str = "en",
    banned: Sequence[str] = (),
    names: Sequence[str] | None = None,
    evidence: PersonaEvidence | None = None,
) -> dict[str, Any]:
    """The persona's JSON schema: a floor on its length (left free, Qwen 0.5B answered
    ``{"persona": "Viewer"}`` for every page of ``benchmarks/results/words_0.5b.md``) and the
    :func:`~cinerec.llm.persona_pattern.persona_pattern` of the viewer's language (whole
    sentences, bounded length, no gendered words or tags, none of ``banned``: the taste's
    own title words, :func:`taste_only_words`), capitalized words only from ``names`` (the
    ticked titles' words, :func:`~cinerec.llm.persona_pattern.capitalized_words`), and with
    ``evidence`` only likes, of the viewer's own genres, which grammar backends enforce."""
    schema = persona_schema()
    prop = schema["properties"]["persona"]
    prop["minLength"] = PERSONA_MIN_CHARS
    liked = None if evidence is None else evidence.liked
    prop["pattern"] = persona_pattern(language_or_default(language), banned, names, liked=liked)
    return schema


def persona_names(
    history: Sequence[Movie], evidence: PersonaEvidence, language: str = "en"
) -> tuple[str, ...]:
    """The Latin words a persona may write capitalized (and in Korean at all): the ticked
    titles' and the evidence's people's, and the genre names (English: and the sentence
    openers, :func:`~cinerec.llm.persona_pattern.capitalized_words`)."""
    titles = [*(m.title for m in list(history)[-MAX_HISTORY:]), *evidence.people]
    return capitalized_words(titles, lowercase=True, openers=language != "ko")


def write_persona(
    backend: LLMBackend | None,
    profile: UserProfile,
    history: Sequence[Movie],
    *,
    timeout_s: float = 60.0,
    max_taste_chars: int = 500,
) -> PersonaResult:
    """Write a 2-3 sentence persona in the viewer's language; never raises for model failures.

    Args:
        backend: The language model, or None to use the template.
        profile: The viewer's profile (``taste`` is treated as untrusted data).
        history: Watched movies, oldest first (the last 20 are shown to the model).
        timeout_s: Wall-clock budget of the model call.
        max_taste_chars: How much of the taste text enters the prompt.

    Returns:
        A :class:`PersonaResult`; ``fallback=True`` with the template text when the model was
        absent or failed (``error`` says why).
    """
    start = time.perf_counter()

    raw: str | None = None
    repairs: tuple[str, ...] = ()

    def fallback(error: str | None) -> PersonaResult:
        text = template_persona(profile, history)
        note = (f"template persona ({error})",) if raw is not None else ()
        return PersonaResult(
            text,
            TEMPLATE_MODEL,
            True,
            error,
            time.perf_counter() - start,
            raw_text=raw,
            repairs=(*repairs, *note),
        )

    if backend is None:
        return fallback(None)
    language = language_or_default(profile.language)
    evidence = persona_evidence(profile, history)
    messages = persona_messages(
        profile, history, max_taste_chars=max_taste_chars, evidence=evidence
    )
    try:
        with guarded(backend, "persona"):
            completion = backend.complete(
                messages,
                schema=(
                    _schema(
                        language,
                        taste_only_bans(
                            taste_only_words(profile, history, max_taste_chars=max_taste_chars)
                        ),
                        persona_names(history, evidence, language),
                        evidence,
                    )
                    if backend.supports_schema
                    else None
                ),
                max_tokens=persona_max_tokens(language),
                temperature=0.0,
                timeout_s=timeout_s,
            )
            raw = completion.text
            reply = parse_reply(completion.text, PersonaOut)
    except LLMError as exc:  # a failure, or a broken contract: the page must still render
        return fallback(str(exc))
    text, cleaned, repairs, problem = repair_persona(reply.persona, profile, history)
    if problem:
        return fallback(problem)
    said = {g for sentence in split_sentences(text) for g in _disliked_in(sentence)}
    if (avoid := avoid_sentence(evidence, language)) and not set(evidence.avoided) <= said:
        sentences = split_sentences(text)
        while len(sentences) > 1 and len(" ".join([*sentences, avoid])) > PERSONA_MAX_CHARS:
            sentences.pop()
        text = " ".join([*sentences, avoid])
        repairs += (f"added the evidence's avoid sentence: {avoid!r}",)
    return PersonaResult(
        text,
        completion.model,
        False,
        None,
        time.perf_counter() - start,
        cleaned=cleaned,
        raw_text=raw,
        repairs=repairs,
    )
