"""Reasons for an already-ranked page, written one card at a time so each can be shown at once.

The ranked list comes first (recommender, optionally re-scored by the model's probabilities);
reasons are the only free text the model writes for a page. Evidence comes first: before the
model writes a card's reason, :func:`cinerec.llm.evidence.build_evidence` computes what the card
shares with the ticked movies (people, keywords, genres), the taste words it matches, the review
line and its year, and the prompt gives the model that evidence and nothing else (no plot, no
persona, no other card): one fixed system message, cached by the runtime, then a few lines per
card and a draft sentence that states the lead fact (the evidence template), which the model
rephrases: a small model left to choose among the facts wrote "X is a thrilling action film"
and cited a fact of its card in 59% of reasons (``benchmarks/results/words.md``). Each card of
a page leads with a different fact, specific ones (a person, a taste word, a theme, a review
line, a ticked movie) before a year, so the reasons of one page differ.

Every reply is then checked (:func:`repair_reason`): grounding removes unknown titles and
echoed instructions, a cut end goes back to a complete sentence, and the separate fact checker
(:mod:`cinerec.llm.facts`) removes each sentence with a false claim or one arguing against the
card. When nothing is left (or the text is in the wrong language, or repeats another card's),
the evidence template phrases the lead fact instead, flagged ``Reason.template``. A failing
model stops the stream with ``Reason.error`` set; the page keeps its ranked list.

An English reason's grammar lets the model write only the words of its card's record, of its
evidence and plain words that state no fact (:mod:`cinerec.llm.reason_words`), and "taste for"
only before the viewer's own taste: Qwen 1.5B added claims of its own ("a warm, touching
film"); read blind, English raw reasons false 17/50 before and 8/50 after, but garbled 19/50
then 32/50 (``benchmarks/README.md``, "Words v12" to "Words v16en").

Korean viewers get the task in Korean and a schema whose reason must start with a Hangul
syllable: with the English task (and English catalog facts) Qwen 1.5B answered in English for
141 of 144 Korean cards (``benchmarks/results/llm_requests_before_reason_language_fix.md``).

Example:
    >>> for r in write_reasons(backend, profile, persona, history, movies):  # doctest: +SKIP
    ...     print(r.movie_id, r.text)
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, LLMBackend, Message, guarded
from cinerec.llm.backends.cancel import DEADLINE, CancelToken, cancel_kwargs
from cinerec.llm.evidence import (
    Evidence,
    build_evidence,
    evidence_lines,
    evidence_reason,
    natural_title,
    taste_value,
)
from cinerec.llm.facts import check_text, false_sentences, split_sentences
from cinerec.llm.genre_words import banned_genre_words
from cinerec.llm.grounding import (
    dangling_end,
    drop_glued_clause,
    finish_cut,
    ground_text,
    joined_words,
)
from cinerec.llm.persona import UserProfile, language_ok
from cinerec.llm.reason_words import reason_words, word_forms
from cinerec.llm.schemas import (
    REASON_MAX_CHARS,
    ReasonOut,
    parse_reply,
    reason_schema,
)
from cinerec.llm.templates import render
from cinerec.llm.word_ban import (
    HANGUL,
    LATIN,
    LETTERS,
    SEPARATORS,
    literal,
    separator,
    trie_regex,
    unbanned_word,
)
from cinerec.text.lang import GENRES_KO, LANGUAGES, language_or_default

log = logging.getLogger(__name__)
UNTRUSTED_CHARS = 500  # the most of the taste text any prompt carries (the persona's)

# A <=120-char sentence inside {"reason": "..."}; Korean needs about twice the tokens. (A lower
# Korean cap, 80 chars, did not shorten the typical reason and cut a long one mid-word, "코미디
# 장르를 가.": ``benchmarks/results/words_latency_ko.md``.)
_MAX_TOKENS = {"en": 48, "ko": 96}
# Facts in a card's prompt: the lead fact (which the draft states) and, in English, one more.
# With four, Qwen 0.5B mixed them up ("The Ring ... shares the theme of the island with The
# Ring"); in Korean, Qwen 1.5B merged even two ("드라마 장르와 스릴러 장르를 동시에 사용...").
_FACTS_SHOWN = {"en": 2, "ko": 1}


@dataclass(frozen=True, slots=True)
class Reason:
    """One card's reason, or why there is none.

    ``text`` is None when grounding removed it, it repeated an earlier one, or the model failed;
    ``error`` is set only when the model failed (the stream ends after such an item).
    ``raw_text`` is the model's reply as it came and ``repairs`` what the checks changed on the
    way to ``text`` (removed sentences, a cut end, a repeat dropped): for measuring the model,
    never shown. ``template`` is True when the evidence template wrote ``text`` because nothing
    of the model's sentence survived the checks (the interface flags it).
    """

    movie_id: int
    text: str | None
    cleaned: bool
    elapsed_s: float
    model: str
    error: str | None = None
    raw_text: str | None = None
    repairs: tuple[str, ...] = ()
    template: bool = False


# The one-sentence grammar, in words (so that words can be banned, cinerec.llm.word_ban): a
# word is 1.._WORD_CHARS letters; between two words 1-3 separators (a space, light
# punctuation: word_ban.SEPARATORS) or one sentence mark inside a word ("E.T", "3.5"); an
# initial or short title may end with ". " ("J. ", "Dr. "). (fewest, most) words: the most
# keep a reason within REASON_MAX_CHARS (raw reasons of words_0.5b_v3 had up to 6.4 characters
# a word, p95, in English; with 22 words Qwen ran past 120 characters and the cut reason became
# the template).
_WORD_CHARS = 16
_WORDS = {"en": (3, 18), "ko": (2, 16)}
_ABBREVIATION = "([A-Z]|Mr|Mrs|Ms|Dr|St|Jr|Sr|Vol|vs)[.] "
_CLOSING = "[)'’”]"


#: Korean particles whose form does not depend on the sound before them: the only ones a
#: Korean reason may glue to a word in Latin letters (a title, a name, a year). Where the form
#: depends on it (이/가, 은/는, 을/를, 와/과, 로/으로) a template cannot know the sound and Qwen
#: 1.5B guessed wrong ("Kate Winslet가", "Man on the Moon와": most of the 15 garbled Korean
#: texts of the words v20 blind read).
#: One flat group: llama-server's converter refused the same set written as two optional groups
#: ("(년대?|년작)?(의|도|...)?": "failed to parse grammar"), which llama-cpp-python took.
_INVARIANT_KO = (
    "(의|도|에|에서|에게|처럼|만|까지|부터|보다|년|년의|년에|년도|년대|년대의|년대에|년작)?"
)
_LATIN_KO = ((ord("'"), ord("'")), *LATIN, (ord("’"), ord("’")))
#: Those particles as a word of their own, as after a quote ("'Matrix'는"); "이" stays (it is
#: also "this").
_BARE_PARTICLES_KO = (
    "가", "은", "는", "을", "를", "와", "과", "로", "으로", "라는", "이라는", "라고", "이라고",
    "예요", "이에요", "랑", "이랑", "나", "이나",
)  # fmt: skip


#: Between two words of a Korean reason: no quote or bracket, after which a particle would
#: start a word of its own ("'Scream'은주제", "'Chicken Run'은도": Qwen 1.5B, once a particle
#: could not follow the title's last letter).
_SEPARATOR_KO = "[" + "".join(c for c in SEPARATORS[:-1] if c not in "'()’‘“”") + "-]"


def _hangul_word(banned: Sequence[str]) -> str:
    """A Korean reason's word in Hangul: none of ``banned`` and no bare particle."""
    return unbanned_word([*banned, *_BARE_PARTICLES_KO], HANGUL, _WORD_CHARS)


def _korean_word(banned: Sequence[str]) -> str:
    """A Korean reason's word: Hangul (its own particles free), or Latin letters and digits
    followed at most by a particle of :data:`_INVARIANT_KO`.

    >>> import re
    >>> word = re.compile(_korean_word([]))
    >>> [bool(word.fullmatch(w)) for w in ("영화는", "Heat의", "1995년에", "Winslet가", "는")]
    [True, True, True, False, False]
    >>> [bool(word.fullmatch(w)) for w in ("Ocean's", "Schindler’s", "'Scream'은", "'Scream'의")]
    [True, True, False, True]
    """
    hangul = _hangul_word(banned)
    # apostrophes and quotes belong to the Latin word ("Ocean's Eleven": without them Qwen
    # 1.5B wrote "Dead Man의 Chest"), so a particle after a closing quote is held to the same
    # rule ("'Scream'의", not "'Scream'은"); a second Latin word for the part after the
    # apostrophe made the grammar too large for llama.cpp ("number of rules ... exceeds")
    latin = unbanned_word(banned, _LATIN_KO, _WORD_CHARS)
    return f"({hangul}|{latin}{_INVARIANT_KO})"


_ARTICLES = ("the", "a", "an")
_OPENING_STEM = 4
#: Words saying the viewer watched a movie: in an English reason only in the clause after a
#: ticked title (:func:`_watched_ends`).
_WATCH_WORDS = ("watch*", "rewatch*", "seen", "saw", "viewed")
#: The Korean prompt's labels and rules (reason_*_ko.txt), which Qwen 0.5B echoed with another
#: movie's title ("초안의 이름은 Mulholland Drive입니다" on Heat's card; 2 of the 9 false reasons
#: of the v8 hand sample); with 초안 banned it wrote "초 안의" (words v10), so 초 alone too.
_PROMPT_WORDS_KO = ("초", "초안*", "근거*", "해요체*", "규칙*")
_TITLE_TOKEN = re.compile(r"[^\W_]+")


def _opening(titles: Iterable[str], card: str = "") -> tuple[str, ...] | None:
    """The first words a reason may not open with: those of ``titles`` (the ticked movies),
    after an article its second word, unless the ``card``'s own title has it. Qwen 0.5B made a
    ticked movie the subject and described it instead of the card ("The Poseidon Adventure is
    a classic movie that explores ..." on Addams Family Values's card; 3 of the 9 false reasons
    of the v6 hand sample). Each bans every word it starts (banned whole, "poseidon" became
    "The Poseidonventure is a classic movie ..." in words v7).

    Only a stem of ``_OPENING_STEM`` letters is kept: with "poseidon*" banned, the model wrote
    "The Poseid Adventure is a classic movie ..." (words v8).

    >>> _opening(["The Poseidon Adventure", "Heat", "A Bug's Life"], "Heat Wave")
    ('bug*', 'pose*')
    """
    own = {w.casefold() for w in _TITLE_TOKEN.findall(card)}
    first: dict[str, None] = {}
    for title in titles:
        words = [w.casefold() for w in _TITLE_TOKEN.findall(title)]
        if words and words[0] in _ARTICLES:
            words = words[1:]
        if not words or len(words[0]) < 2:
            continue
        stem = words[0][:_OPENING_STEM]
        if not any(w.startswith(stem) for w in own):
            first[f"{stem}*"] = None
    return tuple(sorted(first)) or None


def _watched_ends(titles: Iterable[str], card: str = "") -> tuple[str, ...]:
    """The words after which a reason may say "which you watched": the last word of each of
    ``titles`` (the ticked movies), unless the ``card``'s title ends with it too. Qwen 0.5B
    said so of the card itself ("The movie 'Memento' ... flashbacks, which you watched.", and
    "it's watched by the viewer": 3 of the 9 false reasons of the v8 hand sample).

    >>> _watched_ends(["Shutter Island", "The Usual Suspects", "Seven"], "Treasure Island")
    ('Seven', 'Suspects')
    """
    own = [w.casefold() for w in _TITLE_TOKEN.findall(card)][-1:]
    ends = {words[-1] for t in titles if (words := _TITLE_TOKEN.findall(t))}
    return tuple(sorted(e for e in ends if e.casefold() not in own and e.isalnum()))


def _sentence_pattern(
    language: str,
    banned: Iterable[str] = (),
    opening: Sequence[str] | None = None,
    watched: Sequence[str] | None = None,
    vocabulary: Iterable[str] | None = None,
    tastes: Sequence[str] = (),
) -> str:
    """One sentence that ends with ``.``, ``!`` or ``?`` and has no word of ``banned``
    (:func:`cinerec.llm.word_ban.unbanned_word`); in Korean it starts with a Hangul word; in
    English with ``opening`` its first word (after an article, its second) is none of those
    (:func:`_opening`); in English with ``watched`` (:func:`_watched_ends`) it says a movie was
    watched only as "which you watched" (or "that you have watched" ...) right after one of
    those words, and writes no other word of watching. With ``vocabulary``
    (:func:`cinerec.llm.reason_words.reason_words`) every word is one of those, and "taste for"
    is followed only by one of ``tastes`` (the evidence's taste values; without them, no
    "taste" at all): Qwen 1.5B wrote "Sci-Fi fits your taste for Mars." (3 of the 8 false
    English texts of the v12 and v15en blind reads)."""
    low, high = _WORDS[language]
    other = _SEPARATOR_KO if language == "ko" else separator()
    clause = ""
    if language == "en" and watched is not None:
        banned = [*banned, *_WATCH_WORDS]
        if watched:
            ends = "|".join(watched)
            clause = f"({ends}){other}{{1,3}}(which|that) you( have| already)? watched"
    banned = list(banned)
    words = None if vocabulary is None else sorted(set(vocabulary))

    def one_word(more: Sequence[str] = ()) -> str:
        if words is None and language == "ko":
            return _korean_word([*banned, *more])
        if words is None:
            return unbanned_word([*banned, *more], LETTERS, _WORD_CHARS)
        ban = [e.casefold() for e in (*banned, *more)]
        kept = [w for w in words if not any(_starts(w.casefold(), e) for e in ban)]
        return f"({trie_regex(word_forms(kept))})"

    word = one_word()
    said = f"|{clause}({other}{{1,3}}|[.!?])" if clause else ""
    liked = ""
    if words is not None and tastes:
        values = sorted({v for t in tastes for v in (t, t.casefold())})
        liked = f"[Tt]astes? for ({'|'.join(literal(v) for v in values)})"
        said += f"|{liked}({other}{{1,3}}|[.!?])"
    token = f"({word}({other}{{1,3}}|[.!?])|{_ABBREVIATION}{said})"
    if language == "ko":
        # no colon after the first word: Qwen 0.5B copied the prompt's label ("영화: Up (2009)는
        # ...", 15 of the 42 Korean reasons of the v8 hand sample; the product removed it)
        unlabelled = other.replace(":", "")
        lead = f"{_hangul_word(banned)}({unlabelled}{{1,3}}|[.!?])"
        low, high = low - 1, high - 1
    elif opening:
        # an article only through its own branch, so the word after it is checked too; the
        # article counts as a word: one fewer after it (at a cap one word later, Qwen 0.5B
        # glued its last words: "... associated with movies about violence andterro.")
        first = one_word([*opening, *_ARTICLES])
        articles = "|".join(f"{a[0].upper()}{a[1:]}|{a}" for a in _ARTICLES)
        opener = f"({first}({other}{{1,3}}|[.!?])|{_ABBREVIATION})"
        lead = f"{other}{{0,2}}(({articles}) )?{opener}"
        low, high = low - 1, high - 2
    else:
        lead = f"{other}{{0,2}}"
    # the last word closes the sentence, at most behind a closing quote or bracket: at the word
    # cap the model otherwise ended on a comma ("... is a thrilling,!")
    ends = [word, *([clause] if clause else []), *([liked] if liked else [])]
    last = f"({'|'.join(ends)})" if len(ends) > 1 else word
    return f"^{lead}{token}{{{low - 1},{high - 1}}}{last}{_CLOSING}{{0,2}}[.!?]$"


def _schema(
    language: str,
    banned: Iterable[str] = (),
    opening: Sequence[str] | None = None,
    watched: Sequence[str] | None = None,
    vocabulary: Iterable[str] | None = None,
    tastes: Sequence[str] = (),
) -> dict[str, Any]:
    """The reason's JSON schema: one sentence that ends with ``.``, ``!`` or ``?`` within the
    word limit (the grammar then cannot add a second, unchecked sentence, or be cut by the
    length limit mid-word); in Korean it starts with a Hangul syllable (the grammar then keeps
    a small model from drifting into English); no word of ``banned`` (the genre words the card
    lacks, :func:`cinerec.llm.genre_words.banned_genre_words`); in English it does not open
    with a ticked movie's title (``opening``, :func:`_opening`); with ``vocabulary`` it uses
    only those words (in English, the card's record and evidence and plain words:
    :mod:`cinerec.llm.reason_words`).

    >>> import re
    >>> pattern = re.compile(_schema("en")["properties"]["reason"]["pattern"])
    >>> bool(pattern.match("Dr. Strangelove stars Peter Sellers, as The Party does."))
    True
    >>> bool(pattern.match("It stars Al Pacino. It is a crime thriller."))
    False
    >>> bool(re.match(_schema("ko")["properties"]["reason"]["pattern"], "반전이 있는 스릴러예요."))
    True
    >>> bool(re.match(_schema("ko", ["스릴러*"])["properties"]["reason"]["pattern"],
    ...               "반전이 있는 스릴러예요."))
    False
    >>> ticked = re.compile(_schema("en", (), ("party*",))["properties"]["reason"]["pattern"])
    >>> bool(ticked.match("The Party is a classic comedy with Peter Sellers.")), bool(
    ...     ticked.match("Dr. Strangelove stars Peter Sellers, as The Party does."))
    (False, True)
    """
    schema = reason_schema()
    schema["properties"]["reason"]["pattern"] = _sentence_pattern(
        language, banned, opening, watched, vocabulary, tastes
    )
    return schema


def _starts(word: str, entry: str) -> bool:
    """Whether the ban ``entry`` (a word, or a stem with ``*``) covers ``word``."""
    return word.startswith(entry[:-1]) if entry.endswith("*") else word == entry


def card_schema(
    language: str, evidence: Evidence, history: Sequence[Movie], *, word_list: bool = True
) -> dict[str, Any]:
    """:func:`_schema` for one card: the genre words its movie lacks are banned (words of its
    title and keywords, and of the ticked titles the prompt may show, stay allowed), in Korean
    the prompt's labels too; in English it opens with no ticked title, says "which you
    watched" only after one, and uses only the words of
    :func:`cinerec.llm.reason_words.reason_words` (without ``word_list``, any words:
    ``benchmarks/reason_grammar_cost.py`` times the difference)."""
    titles = [m.title for m in history]
    card = evidence.movie.title
    banned = [*banned_genre_words(evidence.movie, mentioned=titles)]
    if language == "ko":
        banned.extend(_PROMPT_WORDS_KO)
    words = {w.casefold() for t in (card, *titles) for w in _TITLE_TOKEN.findall(t)}
    watched = _watched_ends(titles, card)
    if any(_starts(x, w) for x in words for w in _WATCH_WORDS):
        watched = None  # a title says "Saw" or "Watchmen": its words stay writable, unchecked
    vocabulary = reason_words(evidence) if language == "en" and word_list else None
    tastes = [taste_value(f.value, "en") for f in evidence.facts if f.kind == "taste"]
    return _schema(language, banned, _opening(titles, card), watched, vocabulary, tastes)


def reason_messages(
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    movie: Movie,
    note: str = "",
    *,
    avoid: Iterable[str] = (),
) -> list[Message]:
    """The prompt for one card: a fixed system message, then the card's title and its evidence
    (:func:`cinerec.llm.evidence.build_evidence`) and nothing else, so the model can only
    phrase facts that hold. ``persona`` is not used (the evidence already carries what the
    viewer's taste matches); it stays in the signature so callers need not change. ``avoid``:
    lead-fact keys of earlier cards on the page, so this card leads with a different fact.
    The runtime's prefix cache covers the system message."""
    language = language_or_default(profile.language)
    evidence = build_evidence(movie, history, taste=profile.taste, review=note, language=language)
    return _messages(evidence, language, avoid)


def _messages(evidence: Evidence, language: str, avoid: Iterable[str] = ()) -> list[Message]:
    suffix = "_ko" if language == "ko" else ""
    system = render(f"reason_system{suffix}", language_name=LANGUAGES[language]).strip()
    user = render(
        f"reason_user{suffix}",
        title=natural_title(evidence.movie.display_title),
        evidence=evidence_lines(
            evidence, language, avoid=avoid, limit=_FACTS_SHOWN[language], say_watched=False
        ),
        draft=evidence_reason(evidence, language, avoid=avoid, say_watched=False),
    ).strip()
    return [Message("system", system), Message("user", user)]


def warm_prefix(
    backend: LLMBackend,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    *,
    timeout_s: float = 60.0,
    movie: Movie | None = None,
    note: str = "",
    cancel: CancelToken | None = None,
) -> bool:
    """Evaluate the part every card's prompt shares ahead of a page.

    One reply token is generated from the fixed system message (with an empty card), so the
    runtime's prefix cache holds it when the first card is asked. With ``movie`` (the predicted
    first card of the next page, and its review ``note``) that card's whole prompt is evaluated
    instead: its reason then needs no prompt evaluation at all. Returns False (and logs) when
    the model fails or ``cancel`` stops it (given to a backend that ``can_cancel``); nothing
    depends on the warm-up.
    """
    language = language_or_default(profile.language)
    if movie is not None:
        messages = reason_messages(profile, persona, history, movie, note)
    else:
        suffix = "_ko" if language == "ko" else ""
        system = render(f"reason_system{suffix}", language_name=LANGUAGES[language]).strip()
        messages = [Message("system", system), Message("user", "")]
    try:
        backend.complete(
            messages,
            max_tokens=1,
            temperature=0.0,
            timeout_s=timeout_s,
            **cancel_kwargs(backend, cancel),
        )
    except LLMError as exc:
        log.info("warming the reasons' prompt prefix failed: %s", exc)
        return False
    return True


def _allowed_names(
    profile: UserProfile, history: Sequence[Movie], movie: Movie, evidence: Evidence | None = None
) -> list[str]:
    """Names a reason may write, quoted or not, without reading as an unknown title: the
    viewer's name, the genres (in English and Korean), directors and leading cast of the card
    and the ticked movies, and the words of the card's evidence (its taste words, keywords and
    themes). The Korean prompt quotes a taste word ("좋아한다고 한 '로맨스'에 맞음") and Qwen
    quoted it back ("영화의 주제는 '로맨스'입니다."): grounding read the quoted genre as an
    invented title and the reason fell back to the template. A genre or person said of the
    wrong movie is still the fact checker's to catch."""
    names = [profile.name] if profile.name else []
    for m in [*history, movie]:
        genres = [*m.genres, *(GENRES_KO[g] for g in m.genres if g in GENRES_KO)]
        names.extend([*genres, *m.cast[:3], *([m.director] if m.director else [])])
    if evidence is not None:
        names.extend(f.value for f in evidence.facts if f.kind in ("taste", "keyword", "theme"))
    return names


#: The label the user prompt puts before the card's title (reason_user*.txt), which the model
#: sometimes copies to the start of its sentence.
_PROMPT_LABEL = re.compile(r"^\s*(?:Movie|영화)\s*:\s*")


def _known_names(movie: Movie, history: Sequence[Movie]) -> list[str]:
    """Titles and people a reason may write with an inner capital ("DiCaprio")."""
    return [
        name for m in (movie, *history) for name in (m.title, m.director or "", *m.cast) if name
    ]


def repair_reason(
    raw: str,
    *,
    profile: UserProfile,
    history: Sequence[Movie],
    evidence: Evidence,
    seen: set[str] | None = None,
    avoid: Iterable[str] = (),
) -> tuple[str, bool, tuple[str, ...], bool]:
    """What a card shows for the model's sentence ``raw``: ``(text, cleaned, repairs,
    template)``.

    Grounding removes sentences naming unknown titles or echoing instructions; a reply that
    does not end a sentence (cut by the length limit) goes back to its last complete sentence or
    clause; the fact checker
    (:mod:`cinerec.llm.facts`, not the grounding code) removes every sentence with a false
    claim (a wrong genre, person, year or ticked movie, or arguing against the card); a last
    clause that runs words together, where the word cap stopped the model, is dropped
    (:func:`cinerec.llm.grounding.drop_glued_clause`), and so is one that ends on a word no
    sentence ends on ("... and its role in the."). When
    nothing is left, the reply is in the wrong language, it still ends cut, it repeats an
    earlier card's (``seen``, updated here), or it cites none of the card's specific facts
    (:meth:`Evidence.cited_in`: "a thrilling film" says nothing of this card), the evidence
    template phrases the card's lead fact instead, and ``template`` is True.
    """
    movie = evidence.movie
    language = profile.language if profile.language in _MAX_TOKENS else "en"
    grounded = ground_text(
        raw,
        [movie.title, *(m.title for m in history)],
        allowed=_allowed_names(profile, history, movie, evidence),
        max_chars=REASON_MAX_CHARS,
        untrusted=profile.taste[:UNTRUSTED_CHARS],  # no prompt shows the model more of it
    )
    text, repairs = grounded.text, grounded.repairs()
    unlabelled = _PROMPT_LABEL.sub("", text, count=1)
    if unlabelled != text:  # "영화: The Usual Suspects (1995)는 ...": the prompt's own label
        repairs += (f"removed the prompt's label: {text!r} -> {unlabelled!r}",)
        text = unlabelled
    short = finish_cut(text)  # a reply that stops mid-sentence was cut, whatever the reason
    repairs += (f"cut end: {text!r} -> {short!r}",) if short != text else ()
    text = short
    checked = check_text(
        text, subject=movie, watched=history, language=language, taste=profile.taste
    )
    bad = false_sentences(checked)
    if bad:
        kept = [s for i, s in enumerate(split_sentences(text)) if i not in bad]
        repairs += tuple(
            f"false claim ({c.claim.kind} {c.claim.value!r}: {c.why})"
            for c in checked
            if c.ok is False
        )
        text = " ".join(kept)
    known = _known_names(movie, history)
    unglued = drop_glued_clause(text, known)
    trimmed = unglued != text
    if trimmed:  # the word cap stopped the model mid-clause: keep the clauses before it
        repairs += (f"glued words or a dangling end in the last clause: {text!r} -> {unglued!r}",)
        text = unglued
    key = " ".join(text.lower().split())
    why = ""
    if not text.strip():
        why = "nothing left"
    elif text.endswith("…"):
        why = "cut mid-sentence"
    elif not language_ok(text, language, min_hangul=5):
        why = f"not in {LANGUAGES[language]}"
    elif joined_words(text, known):
        why = "runs words together"
    elif dangling_end(text):
        why = "ends mid-clause"
    elif seen is not None and key in seen:
        why = "repeats an earlier reason"
    elif not evidence.cited_in(text, history):
        why = "cites no fact of its card"
    if seen is not None:
        seen.add(key)
    if why:
        text = evidence_reason(evidence, language, avoid=avoid)
        return text, True, (*repairs, f"evidence template ({why})"), True
    return text, bool(grounded.removed or bad or trimmed), repairs, False


def write_reasons(
    backend: LLMBackend,
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    movies: Sequence[Movie],
    *,
    timeout_s: float = 60.0,
    notes: Mapping[int, str] | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[Reason]:
    """Yield one :class:`Reason` per movie, in the given order, as each is written.

    Args:
        backend: The language model.
        profile: The viewer; ``taste`` is quoted as untrusted data.
        persona: The viewer's persona (may be a template one).
        history: Watched movies, oldest first.
        movies: The page's movies, best first.
        timeout_s: Budget for the whole page; a card that cannot finish in what is left ends the
            stream with an error item.
        notes: Per movie id, what reviewers say (a line of the review summary), added to that
            card's facts so its reason can cite real review evidence.
        cancel: The caller gave up (e.g. the job was cancelled). With the page's deadline it
            goes to a backend that ``can_cancel``, so the card being written stops within about
            a token once either passes, and the model is free for the next waiter.

    Never raises for model errors: the failing card is yielded with ``error`` set and the stream
    stops (later cards would fail the same way and only delay the page).
    """
    page = CancelToken.after(timeout_s) if cancel is None else cancel.within(timeout_s)
    stop = cancel_kwargs(backend, page)
    seen: set[str] = set()
    led: list[str] = []  # lead-fact keys of earlier cards: each card leads with another fact
    language = profile.language if profile.language in _MAX_TOKENS else "en"
    for movie in movies:
        start = time.perf_counter()
        left = page.left() or 0.0  # the page token always has a deadline
        if page.cancelled:
            why = "out of time" if page.reason in (None, DEADLINE) else str(page.reason)
            yield Reason(movie.movie_id, None, False, 0.0, backend.model, why)
            return
        evidence = build_evidence(
            movie,
            history,
            taste=profile.taste,
            review=(notes or {}).get(movie.movie_id, ""),
            language=language,
        )
        messages = _messages(evidence, language, led)
        lead = evidence.lead(led)
        led.extend(f.key for f in lead[:1])
        completion: Completion | None = None
        try:
            with guarded(backend, "reason"):
                completion = backend.complete(
                    messages,
                    schema=card_schema(language, evidence, history)
                    if backend.supports_schema
                    else None,
                    max_tokens=_MAX_TOKENS[language],
                    temperature=0.0,
                    timeout_s=left,
                    **stop,
                )
                raw = parse_reply(completion.text, ReasonOut).reason
        except LLMError as exc:  # a failure, or a broken contract: the page must still render
            reply = completion.text if completion is not None else None
            yield Reason(
                movie.movie_id,
                None,
                False,
                time.perf_counter() - start,
                backend.model,
                str(exc),
                raw_text=reply,
            )
            return
        text, cleaned, repairs, template = repair_reason(
            raw,
            profile=profile,
            history=history,
            evidence=evidence,
            seen=seen,
            avoid=led[:-1],
        )
        yield Reason(
            movie.movie_id,
            text or None,
            cleaned,
            time.perf_counter() - start,
            completion.model,
            raw_text=completion.text,
            repairs=repairs,
            template=template,
        )
