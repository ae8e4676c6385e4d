"""The model phrases an answer that code already built from catalog facts, and is checked.

The draft (a complete, cited answer from a template) and the facts it came from go to the
model with the question; the model may only rephrase. :func:`check_phrasing` accepts the
reply when the grounding check removes nothing (every title and person it names is among the
facts: :class:`cinerec.llm.chat.grounding.AnswerGrounder`), it keeps every citation and every
required string of the draft (names, years, counts), it is in the question's language, and the
separate fact checker (:func:`cinerec.llm.facts.false_facts`) finds no false genre, person
role or year in it. Otherwise the caller shows the draft, flagged as a fallback.

A comparison's reply may be constrained by the grammar of :func:`lead_schema` to start with
the winner's title (the 0.5B model otherwise makes the other movie the subject of "is older
than"); those words are forced, not the model's, and the answer says so (``forced_lead``).

Example:
    >>> from cinerec.data.types import Movie
    >>> memento = Movie(1, "Memento", 2000, ("Thriller",), director="Christopher Nolan")
    >>> draft = "Memento (2000) [#1] was directed by Christopher Nolan."
    >>> check_phrasing("Christopher Nolan directed Memento (2000) [#1].", draft, [memento],
    ...                required=["Christopher Nolan"], language="en").ok
    True
    >>> check_phrasing("Christopher Nolan directed Memento [#1] and Heat [#6].", draft,
    ...                [memento], required=["Christopher Nolan"], language="en").reason
    'unknown_citation'
    >>> check_phrasing("Memento (2000) [#1], a horror film, was directed by Christopher Nolan.",
    ...                draft, [memento], required=["Christopher Nolan"], language="en").reason
    'false_claim'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cinerec.data.types import Movie
from cinerec.llm.backends.base import Message
from cinerec.llm.chat.grounding import (
    CITATION,
    AnswerGrounder,
    add_missing_citations,
    name_key,
    names_of,
)
from cinerec.llm.facts import false_facts, split_sentences
from cinerec.llm.grounding import sanitize_user_text
from cinerec.llm.templates import render
from cinerec.llm.word_ban import literal
from cinerec.text.lang import HANGUL, LANGUAGES
from cinerec.text.title_index import split_scripts


def phrase_messages(
    question: str, facts: Sequence[str], draft: str, *, language: str
) -> list[Message]:
    """The prompt: rules, then the facts, the question and the draft."""
    return [
        Message(
            "system",
            render("chat_phrase_system", language_name=LANGUAGES.get(language, "English")),
        ),
        Message(
            "user",
            render(
                "chat_phrase_user",
                facts="\n".join(facts) or "(none)",
                question=sanitize_user_text(question, 500),
                draft=draft,
            ),
        ),
    ]


#: A character of a led answer after its lead: no quote, backslash or line break (one paragraph).
_ANSWER_CHAR = r'[^"\\\n]'
#: Characters a lead cannot carry into the grammar's pattern (they would need escapes).
_UNSAFE_LEAD = frozenset('"\\[]^\n')


def lead_schema(lead: str, *, max_chars: int = 400) -> dict[str, Any] | None:
    """The JSON schema of ``{"answer": ...}`` whose answer starts with ``lead``, word for word
    (a comparison's winner: the grammar then forces the right subject of the verdict), or None
    when ``lead`` is empty or has a character the pattern cannot carry.

    The lead's words are forced, not the model's: count them as such (see
    :func:`answer_of`). Only letters, digits and spaces are written as they are; every other
    character is a one-character class, so the pattern needs no escapes.

    >>> import re
    >>> pattern = lead_schema("Heat (1995)")["properties"]["answer"]["pattern"]
    >>> bool(re.match(pattern, "Heat (1995) [#6] is older than Up (2009) [#7]."))
    True
    >>> bool(re.match(pattern, "Up (2009) [#7] is newer than Heat (1995) [#6]."))
    False
    >>> lead_schema('The "Up" movie') is None
    True
    """
    if not lead.strip() or any(c in _UNSAFE_LEAD for c in lead):
        return None
    forced = literal(lead)
    return {
        "type": "object",
        "properties": {
            "answer": {
                "type": "string",
                "pattern": f"^{forced}{_ANSWER_CHAR}{{8,{max_chars}}}$",
            }
        },
        "required": ["answer"],
        "additionalProperties": False,
    }


#: A character of a cited answer between its citations: no quote, backslash, line break,
#: bracket or ``#`` (a citation can then only be one of the draft's, written whole).
_BETWEEN = r'[^"\\\n\[\]#]'
_UNSAFE_REF = frozenset('"\\\n')


_REF = re.compile(r"^(?P<title>.*?)(?P<year> [(]\d{4}[)])?(?P<cite> \[#\d+\])$")


def _part(ref: str) -> str:
    """A citation "Title (year) [#id]" whose year and citation the model may leave out (it
    wrote "Notting Hill (1999), Changing Lanes (2002)": the citations are added back,
    :func:`cinerec.llm.chat.grounding.add_missing_citations`); any other text as it is."""
    match = _REF.match(ref)
    if match is None:
        return literal(ref)
    year, cite = match["year"], match["cite"]
    return literal(match["title"]) + (f"({literal(year)})?" if year else "") + f"({literal(cite)})?"


def cited_schema(
    refs: Sequence[str], *, lead: str = "", opening: int = 80, gap: int = 48
) -> dict[str, Any] | None:
    """The JSON schema of ``{"answer": ...}`` that names every one of ``refs`` (a list's
    "Title (year) [#id]" citations, as the draft has them, year and citation optional, and
    any name to keep before them), whole and in the draft's order, and no other citation; the
    words around them are the model's: at most ``opening`` characters before the first (after
    ``lead``, which starts the answer as in :func:`lead_schema`), at most ``gap`` between two
    and after the last. None when there is no ref, or one (or the lead) has a character the
    pattern cannot carry.

    Qwen 0.5B dropped items of Korean lists ("Colin Trevorrow 감독의 영화는 Jurassic World
    (2015) [#117529]입니다." for two films; 7 of 60 list answers of the v6 chat run were the
    template for it). With long free stretches it wandered instead ("Notting Hill (1999) -
    Comedy, Romance; ... Please note that the draft ..."), so they are short. The refs are
    forced once begun, not the model's words: the answer says so (``forced_citations``).

    >>> import re
    >>> refs = ["Heat (1995) [#6]", "Up (2009) [#7]"]
    >>> pattern = cited_schema(refs)["properties"]["answer"]["pattern"]
    >>> bool(re.match(pattern, "Two films: Heat (1995) [#6] and Up (2009) [#7]."))
    True
    >>> bool(re.match(pattern, "Two films: Heat (1995) [#6]."))
    False
    >>> bool(re.match(pattern, "Two films: Heat (1995) and Up."))
    True
    >>> bool(re.match(pattern, "Heat (1995) [#6], Up (2009) [#7] and Alien [#8]."))
    False
    >>> led = cited_schema(refs, lead="Besides Memento (2000),")["properties"]["answer"]
    >>> bool(re.match(led["pattern"], "Besides Memento (2000), Heat (1995) [#6], Up (2009) [#7]."))
    True
    """
    if not refs or any(c in _UNSAFE_REF for c in "".join(refs)):
        return None
    if any(c in _UNSAFE_LEAD for c in lead):  # the lead's characters as lead_schema's
        return None
    body = f"{_BETWEEN}{{1,{gap}}}".join(_part(r) for r in refs)
    start = f"{literal(lead)} ?" if lead else ""
    free = f"{_BETWEEN}{{0,{opening}}}" if opening else ""
    return {
        "type": "object",
        "properties": {
            "answer": {
                "type": "string",
                "pattern": f"^{start}{free}{body}{_BETWEEN}{{0,{gap}}}$",
            }
        },
        "required": ["answer"],
        "additionalProperties": False,
    }


def answer_of(reply: str) -> str | None:
    """The answer of a reply made under :func:`lead_schema`; None when it is not that JSON
    (cut by the token limit, say).

    >>> answer_of('{"answer": "Heat (1995) [#6] is older."}')
    'Heat (1995) [#6] is older.'
    >>> answer_of('{"answer": "Heat (1995) [#6] is') is None
    True
    """
    try:
        data = json.loads(reply)
    except ValueError:
        return None
    answer = data.get("answer") if isinstance(data, dict) else None
    return answer if isinstance(answer, str) else None


@dataclass(frozen=True, slots=True)
class PhraseCheck:
    """The checked reply: ``ok`` with its ``text``, or the ``reason`` it was refused."""

    ok: bool
    text: str
    reason: str = ""


def check_phrasing(
    reply: str,
    draft: str,
    movies: Sequence[Movie],
    *,
    required: Iterable[str],
    language: str,
    extra_names: Iterable[str] = (),
    verdict: tuple[int, int] | None = None,
    values: Mapping[int, str] | None = None,
    is_person: Callable[[str], bool] | None = None,
    catalog_titles: Callable[[str], Iterable[tuple[str, int]]] | None = None,
    context: Sequence[Movie] = (),
) -> PhraseCheck:
    """Accept a phrasing only when it names nothing outside the facts and keeps the draft's
    citations and required strings (see the module docstring); for a comparison, ``verdict``
    (winner id, other id) must stay the way round the draft has it (:func:`keeps_verdict`),
    the verdict must compare two different movies, and each of ``values`` (movie id -> its year
    or ratings count) must stay with its movie (:func:`keeps_values`).
    ``context``: movies the draft itself names besides the facts ("Besides Memento, ..."); the
    phrasing must name them too, and what it says of them is checked like the rest."""
    named = [*movies, *(m for m in context if m not in movies)]
    grounder = AnswerGrounder(
        allowed_ids={m.movie_id for m in named},
        known_titles=[m.title for m in named],
        allowed_names=[*names_of(named), *extra_names],
        is_person=is_person,
        catalog_titles=catalog_titles,
    )
    # "Memento (2000)" named without its id is cited, as in free answers.
    reply, _ = add_missing_citations(reply, named)
    grounder.feed(reply)
    checked = grounder.finish()
    if checked.flags:
        return PhraseCheck(False, reply, checked.flags[0])
    text = checked.text
    if not text.strip():
        return PhraseCheck(False, reply, "empty")
    if miscited(text, named):
        return PhraseCheck(False, reply, "miscited_title")
    wanted = {int(i) for i in CITATION.findall(draft)}
    if not wanted <= {int(i) for i in CITATION.findall(text)}:
        return PhraseCheck(False, reply, "dropped_citation")
    # "Besides Friday (1995), ...": without it, "the 8 most rated of 15" reads as leaving
    # Friday out. Named as itself (cited above), not inside another title ("Next Friday").
    if not {m.movie_id for m in context} <= {int(i) for i in CITATION.findall(text)}:
        return PhraseCheck(False, reply, "dropped_context")
    for movie in context:  # cited only to be checked: the draft does not cite it, nor the text
        if movie.movie_id not in wanted:
            text = re.sub(rf"\s*\[#{movie.movie_id}\]", "", text)
    folded = f" {name_key(split_scripts(CITATION.sub(' ', text)))} "
    for item in required:
        if not keeps_fact(item, folded):
            return PhraseCheck(False, reply, "dropped_fact")
    if verdict is not None and not keeps_verdict(text, *verdict):
        return PhraseCheck(False, reply, "verdict")
    if verdict is not None and compares_with_itself(text):
        return PhraseCheck(False, reply, "self_comparison")
    if values and not keeps_values(text, values):
        return PhraseCheck(False, reply, "swapped_values")
    if language == "ko" and not HANGUL.search(text):
        return PhraseCheck(False, reply, "wrong_language")
    if language != "ko" and HANGUL.search(text):
        return PhraseCheck(False, reply, "wrong_language")
    subject = movies[0] if len(movies) == 1 else None
    if false_facts(text, named, language=language, subject=subject):
        return PhraseCheck(False, reply, "false_claim")
    return PhraseCheck(True, text)


#: A title's year written right before its citation: "Snatch (2000) [#4011]".
_YEAR_AT_END = re.compile(r"\s*\((?:18|19|20)\d\d\)$")


def miscited(text: str, movies: Sequence[Movie]) -> list[int]:
    """Ids cited right after the title of another given movie: the link and the words name
    different movies ("Snatch (2000) [#4027]" where #4027 is O Brother, Where Art Thou?, so
    a list of the most rated names Snatch twice and leaves O Brother out). A citation after
    its own title (a longer one too: "Shrek 2 [#2]" beside Shrek) or after words that are no
    given title passes.

    >>> snatch, brother = Movie(1, "Snatch", 2000), Movie(2, "O Brother, Where Art Thou?", 2000)
    >>> miscited("Snatch (2000) [#2] and Snatch (2000) [#1].", [snatch, brother])
    [2]
    >>> miscited("O Brother, Where Art Thou? (2000) [#2] and the Guy Ritchie one [#1].",
    ...          [snatch, brother])
    []
    """
    titles = {m.movie_id: m.title for m in movies if m.title.strip()}
    wrong: list[int] = []
    for cite in CITATION.finditer(text):
        cited = int(cite.group(1))
        if cited not in titles:
            continue
        before = _YEAR_AT_END.sub("", text[: cite.start()].rstrip())

        def ends_with(title: str, before: str = before) -> bool:
            return re.search(rf"(?<![^\W_]){re.escape(title)}$", before, re.IGNORECASE) is not None

        if ends_with(titles[cited]):
            continue
        if any(ends_with(t) for i, t in titles.items() if i != cited):
            wrong.append(cited)
    return wrong


#: What Korean writes onto a word without changing it: particles and the copula
#: ("코미디입니다", "드라마와", "스릴러이며").
_KO_ENDINGS = tuple(
    sorted(
        "입니다 이며 이고 이다 이에요 예요 이자 의 은 는 이 가 을 를 와 과 도 에 로 으로 만 "
        "이나 나 등".split(),
        key=len,
        reverse=True,
    )
)


def keeps_fact(item: str, folded: str) -> bool:
    """Whether ``folded`` (a text folded by :func:`name_key`, spaces around it) keeps the
    required ``item`` as a whole word; a Korean word may carry a particle or the copula.

    >>> keeps_fact("코미디", " multiplicity 1996 의 장르는 코미디입니다 ")
    True
    >>> keeps_fact("코미디", " 로맨틱코미디입니다 ")
    False
    >>> keeps_fact("드라마", " 드라마틱한 영화 ")
    False
    >>> keeps_fact("Michael Mann", " heat 1995 is by michael manning ")
    False
    """
    key = name_key(item)
    if f" {key} " in folded:
        return True
    if not key or not HANGUL.search(key[-1]):
        return False
    endings = "|".join(_KO_ENDINGS)
    return re.search(rf" {re.escape(key)}(?:{endings}) ", folded) is not None


#: Words that state a comparison's verdict ("older", "more ratings"; "더 오래", "많습니다").
_VERDICT_WORD = re.compile(
    r"\b(?:older|newer|more recent|earlier|later|more|fewer|less)\b|오래|최근|먼저|나중|많|적",
    re.IGNORECASE,
)
_THAN_CITED = re.compile(r"\bthan\b[^\[.]*\[#(\d+)\]", re.IGNORECASE)
_CITED_THAN_KO = re.compile(r"\[#(\d+)\]\s*(?:은\(는\)|은|는|이\(가\)|이|가)?\s*보다")


def keeps_verdict(text: str, winner: int, other: int) -> bool:
    """Whether a comparison's phrasing says what the draft says: ``winner`` is the older (or
    newer, or more rated) one. The movie after "than" / before "보다" must be ``other``; with
    neither, the first movie cited in the sentence that states the verdict must be ``winner``.
    A phrasing that states no verdict at all fails too (it no longer answers the question).

    >>> keeps_verdict("Heat (1995) [#6] is older than Up (2009) [#7].", 6, 7)
    True
    >>> keeps_verdict("Up (2009) [#7] is older than Heat (1995) [#6].", 6, 7)
    False
    >>> keeps_verdict("Up (2009) [#7]보다 Heat (1995) [#6]이(가) 더 오래됐습니다.", 6, 7)
    True
    >>> keeps_verdict("Up (2009) [#7]은(는) Heat (1995) [#6]보다 오래됐습니다.", 6, 7)
    False
    >>> keeps_verdict("Heat (1995) [#6] came out in 1995 and Up (2009) [#7] in 2009.", 6, 7)
    False
    """
    for sentence in split_sentences(text):
        if not _VERDICT_WORD.search(CITATION.sub(" ", sentence)):
            continue
        than = [int(i) for i in _THAN_CITED.findall(sentence)]
        than += [int(i) for i in _CITED_THAN_KO.findall(sentence)]
        if than:
            return than[0] == other and winner not in than
        cited = [int(i) for i in CITATION.findall(sentence)]
        return bool(cited) and cited[0] == winner
    return False


#: A title's year written beside it ("Heat (1995)"), which states no compared value.
_TITLE_YEAR = re.compile(r"\((?:18|19|20)\d\d\)")
_NUMBER = re.compile(r"(?<![\d#])\d+(?![\d\]])")
#: "40 for Willy Wonka (1971) [#7]", "41 ratings of Up [#7]": the number is that movie's.
_FOR_CITED = re.compile(
    r"\s*(?:ratings?\s+)?(?:for|of)\s+(?:(?![.;]\s)[^\[]){0,120}?\[#(\d+)\]", re.IGNORECASE
)


def value_owners(sentence: str) -> list[tuple[str, int | None]]:
    """Each number of a sentence (not a title's year, not a citation) and the cited movie it is
    said of: the movie named right after it with "for"/"of" ("40 for Up [#7]"), else the last
    movie cited before it, else the first cited after it (None when the sentence cites none).

    >>> value_owners("Heat (1995) [#6] has more ratings: 119, against 40 for Up (2009) [#7].")
    [('119', 6), ('40', 7)]
    >>> value_owners("Heat (1995) [#6]의 평가 수가 더 많습니다: 119개, Up [#7]은(는) 40개입니다.")
    [('119', 6), ('40', 7)]
    >>> value_owners("Heat (1995) [#6] has more: 45, against 37 for Fahrenheit 9/11 (2004) [#7].")
    [('45', 6), ('37', 7), ('9', 6), ('11', 6)]
    >>> value_owners("Heat (1995) [#6]이(가) Up (2009) [#7]보다 더 오래됐습니다: 1995년 개봉이고")
    [('1995', 6)]
    >>> value_owners("Heat (1995) [#6] is older than Up (2009) [#7]: it came out in 1995.")
    [('1995', 6)]
    """
    plain = _TITLE_YEAR.sub(lambda m: " " * len(m.group(0)), sentence)
    # The movie compared against ("than Y", "Y보다") is not what the next number is said of:
    # "X이(가) Y보다 더 오래됐습니다: 1995년 개봉이고, ..." (1995 is X's).
    cites = [
        (m.start(), int(m.group(1)))
        for m in CITATION.finditer(plain)
        if not _CITED_THAN_KO.match(plain, m.start())
        and not re.search(r"\bthan\s+[^\[.;:]{0,90}$", plain[: m.start()], re.IGNORECASE)
    ]
    owners: list[tuple[str, int | None]] = []
    for number in _NUMBER.finditer(plain):
        after = _FOR_CITED.match(plain, number.end())
        if after:
            owners.append((number.group(0), int(after.group(1))))
            continue
        before = [i for at, i in cites if at < number.start()]
        later = [i for at, i in cites if at > number.start()]
        owner = before[-1] if before else later[0] if later else None
        owners.append((number.group(0), owner))
    return owners


def keeps_values(text: str, values: Mapping[int, str]) -> bool:
    """Whether every compared value the text states stays with its movie: a number equal to one
    of ``values`` (movie id -> year or ratings count) said of another of those movies fails
    ("Cruel Intentions has more ratings: 119 against 40 for Willy Wonka", counts inverted).

    >>> counts = {7: "119", 6: "40"}
    >>> keeps_values("Up (2009) [#7] has more ratings: 119, against 40 for Heat [#6].", counts)
    True
    >>> keeps_values("Heat (1995) [#6] has more ratings: 119, against 40 for Up [#7].", counts)
    False
    """
    stated = set(values.values())
    for sentence in _verdict_sentences(text):
        for number, owner in value_owners(sentence):
            if number in stated and owner in values and values[owner] != number:
                return False
    return True


def compares_with_itself(text: str) -> bool:
    """Whether a sentence that states a verdict cites one movie twice and no other ("X is older:
    it came out in 1996, and X in 1996").

    >>> compares_with_itself("Heat (1995) [#6] is older: 1995, and Heat (1995) [#6] in 1995.")
    True
    >>> compares_with_itself("Heat (1995) [#6] is older than Up (2009) [#7].")
    False
    """
    for sentence in _verdict_sentences(text):
        if not _VERDICT_WORD.search(CITATION.sub(" ", sentence)):
            continue
        cited = [int(i) for i in CITATION.findall(sentence)]
        if len(cited) >= 2 and len(set(cited)) == 1:
            return True
    return False


#: Words a period ends inside a title or name ("The People vs. Larry Flynt", "Mr. Holland").
_ABBREVIATIONS = frozenset("vs v mr mrs ms dr st jr sr no vol pt".split())
_SENTENCE_END = re.compile(r"[.!?]+\s+|\n+")


def _verdict_sentences(text: str) -> list[str]:
    """Sentences, not split inside a title ("The People vs. Larry Flynt", "Mr. Holland's Opus",
    "J. Edgar"): a comparison's values are read within the sentence that states them."""
    sentences, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        words = re.findall(r"[\w']+", text[start : end.start()])
        last = words[-1].lower() if words else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue
        sentences.append(text[start : end.end()].strip())
        start = end.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]
