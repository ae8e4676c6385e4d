"""The evidence for one card's reason, computed before the model writes a word.

A reason may only phrase facts that hold: the people, keywords and genres the card's movie
shares with the movies the viewer ticked, the words of the viewer's taste that the movie
matches, what reviewers say about it, and its year. :func:`build_evidence` computes them from
catalog records alone; :func:`evidence_lines` turns them into the only facts the reasons prompt
gives the model; :func:`evidence_reason` phrases the first of them without a model (the flagged
fallback when the model's sentence fails the fact checker).

Genres the viewer said they would rather avoid are never evidence, so nothing in the prompt can
argue against the card.

Example:
    >>> heat = Movie(6, "Heat", 1995, ("Crime",), director="Michael Mann")
    >>> card = Movie(1, "Collateral", 2004, ("Crime", "Thriller"), director="Michael Mann")
    >>> evidence_reason(build_evidence(card, [heat]), "en")
    'Directed by Michael Mann, like Heat, which you watched.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cinerec.data.types import Movie
from cinerec.text.lang import GENRES_KO
from cinerec.text.taste import parse_taste

NON_TASTE_GENRES = frozenset({"IMAX", "(no genres listed)"})
MAX_TITLES = 2
MAX_THEMES = 2
# Keywords that say nothing a viewer would call a theme of the movie.
NON_THEMES = frozenset(
    {"woman director", "duringcreditsstinger", "aftercreditsstinger", "independent film",
     "sequel", "remake", "3d", "imax"}
)  # fmt: skip
# Content tags and source notes among TMDB's keywords: no reason to recommend a movie, and the
# drafts phrase them badly. Qwen 1.5B's first 30 reasons of words_1.5b_v11 said "A film about
# male nudity." three times; "sex" (236 movies), "nudity" (192) and "rape" (98) are among the
# catalog's 30 most frequent keywords, and "based on novel" (335) drafted "About based on
# novel, like ...".
_CONTENT_TAG = re.compile(
    r"\b(?:nud(?:e|es|ity|ism)|sex|unsimulated sex|sex scenes?|rape|sexual (?:abuse|assault)"
    r"|incest|porn\w*|gore|child abuse)\b|^based on ",
    re.IGNORECASE,
)


def is_theme(keyword: str) -> bool:
    """Whether a catalog keyword can be cited as something the movie is about.

    >>> [is_theme(k) for k in ("heist", "male nudity", "sexuality", "based on novel", "3d")]
    [True, False, True, False, False]
    """
    return keyword.casefold() not in NON_THEMES and not _CONTENT_TAG.search(keyword)


# Kinds a reason can cite as something that belongs to its card (the benchmark's "specific
# fact"); a genre counts only with the ticked movie that shares it.
SPECIFIC = frozenset({"director", "cast", "taste", "keyword", "theme", "review"})
# Kinds whose value is an English catalog word ("island", "u.s. marshal"): a Korean reason that
# quotes one reads badly, so Korean evidence ranks them after a person, taste or genre fact and
# leaves them out beside one (:func:`build_evidence`, :func:`evidence_lines`).
CATALOG_WORDS = frozenset({"keyword", "theme"})


@dataclass(frozen=True, slots=True)
class Fact:
    """One piece of evidence: ``kind`` is ``director``, ``cast``, ``taste``, ``keyword`` (shared
    with a ticked movie), ``genre``, ``theme`` (a keyword of the card alone), ``review`` or
    ``year``; ``value`` the fact (a name, genre, keyword, review line or year); ``watched`` the
    ticked movies that share it (empty for taste, theme, review and year)."""

    kind: str
    value: str
    watched: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What makes two facts the same across a page (used to vary the lead fact)."""
        return f"{self.kind}:{self.value.casefold()}"

    @property
    def specific(self) -> bool:
        """Whether the fact belongs to the card: a person, a matched taste word, a keyword or
        theme, a review line, or a genre together with the ticked movie that shares it."""
        return self.kind in SPECIFIC or (self.kind == "genre" and bool(self.watched))


@dataclass(frozen=True, slots=True)
class Evidence:
    """The facts a card's reason may use, most specific first."""

    movie: Movie
    facts: tuple[Fact, ...]

    def lead(self, avoid: Iterable[str] = ()) -> tuple[Fact, ...]:
        """The facts with the first one not in ``avoid`` (keys of earlier cards' lead facts)
        moved to the front, so the cards of one page lead with different facts. A specific fact
        leads whenever an unused one is left; then an unused year; a fact already used leads
        again only when every fact was used."""
        if not self.facts:
            return self.facts
        skip = set(avoid)
        order = [f for f in self.facts if f.specific] + [f for f in self.facts if not f.specific]
        pick = next((f for f in order if f.key not in skip), order[0])
        return (pick, *(f for f in self.facts if f is not pick))

    def cited_in(self, text: str, history: Sequence[Movie] = ()) -> bool:
        """Whether ``text`` cites one of the specific facts: the name, taste word (or its Korean
        genre name), keyword, theme or review words, or a ticked movie sharing a fact (one of
        the evidence's, or any of ``history`` sharing a genre, person or keyword with the
        card). True when there is no specific fact to cite."""
        specific = [f for f in self.facts if f.specific]
        if not specific:
            return True
        folded = " ".join(text.casefold().split())
        card = self.movie
        own = {p for p, _ in _people(card)} | set(card.keywords)
        own |= set(card.genres) - NON_TASTE_GENRES
        for m in history:
            theirs = {p for p, _ in _people(m)} | set(m.keywords) | set(m.genres)
            if own & theirs and any(_names(n, folded) for n in _title_names(m.title)):
                return True
        for fact in specific:
            names = {fact.value.casefold()}
            if fact.kind == "taste" and fact.value in GENRES_KO:
                names.add(GENRES_KO[fact.value].casefold())
            names.update(n for t in fact.watched for n in _title_names(t))
            if fact.kind == "review":
                names = {" ".join(fact.value.casefold().split()[:4])}
            if any(n and _names(n, folded) for n in names):
                return True
        return False


_AKA = re.compile(r"\s*\([^()]*\)$")


def _title_names(title: str) -> set[str]:
    """How a reason may write a ticked title, folded: as in the catalog, with its article in
    front, and without the a.k.a. part in brackets ("Thesis (Tesis)" is "Thesis": the model
    wrote "shares themes with Thesis, which you watched", and the card showed the template)."""
    names = {title, natural_title(title)}
    names |= {_AKA.sub("", n) for n in names}
    return {n.casefold() for n in names if n}


def _names(name: str, text: str) -> bool:
    """Whether ``text`` holds ``name`` as whole words (a Korean particle may follow)."""
    return re.search(rf"(?<![^\W_]){re.escape(name)}(?![A-Za-z0-9])", text) is not None


def _mentioned_at(keyword: str, overview: str) -> float:
    """Where the case-folded ``overview`` first mentions ``keyword`` (its first letters, at
    least 4: "android" in "androids"), or infinity. A card's themes are its keywords in this
    order (a stable sort:
    those it does not mention stay in catalog order, after): TMDB's keyword lists are not
    ordered by weight, and a blind reader called "A film about nurse." (Rear Window),
    "... about upper class" (Lost in Translation) and "... about androids" (Aliens) false; the
    overviews of Aliens and Total Recall name "colony" and "mars".

    >>> _mentioned_at("androids", "an android and a colony."), _mentioned_at("nurse", "")
    (3, inf)
    """
    stem = keyword.casefold()[: max(4, len(keyword) - 2)]
    hit = re.search(r"\b" + re.escape(stem), overview)
    return hit.start() if hit else float("inf")


def _people(movie: Movie) -> list[tuple[str, str]]:
    return [(d, "director") for d in movie.directors] + [(c, "cast") for c in movie.cast[:5]]


def build_evidence(
    movie: Movie,
    history: Sequence[Movie],
    *,
    taste: str = "",
    review: str = "",
    language: str = "en",
) -> Evidence:
    """What ``movie`` shares with the ticked ``history``, matches in ``taste``, and what
    reviewers say (``review``, one line of its review summary).

    Order: shared people, matched taste words, shared keywords, the card's own themes (its first
    keywords), shared genres, the review line, the year. For ``language="ko"`` the keywords and
    themes (English catalog words) come after the shared genres and the review line, so a
    Korean reason leads with a person, a taste word or a genre (in Korean) whenever the card has
    one. A genre the taste says to avoid is left out everywhere.
    """
    parsed = parse_taste(taste) if taste else None
    disliked = set(parsed.disliked_genres) if parsed else set()
    recent = list(history)[::-1]  # the latest ticked movies are cited first

    def sharing(pred: object) -> tuple[str, ...]:
        return tuple(m.title for m in recent if pred(m))[:MAX_TITLES]  # type: ignore[operator]

    facts: list[Fact] = []
    for name, role in _people(movie):
        # In the same role: "directed by Tim Robbins, like Code 46" was false (he acts in it).
        titles = sharing(lambda m, person=(name, role): person in _people(m))
        if titles:
            facts.append(Fact(role, name, titles))
    genres = [g for g in movie.genres if g not in NON_TASTE_GENRES and g not in disliked]
    if parsed:
        for genre in parsed.liked_genres:
            if genre in genres:
                facts.append(Fact("taste", genre))
        words = {k.casefold() for k in movie.keywords}
        for term in parsed.free_terms:
            if term in words:
                facts.append(Fact("taste", term))
    for keyword in movie.keywords[:12]:
        titles = sharing(lambda m, k=keyword: k in m.keywords)
        if titles and is_theme(keyword):
            facts.append(Fact("keyword", keyword, titles))
    cited = {f.value.casefold() for f in facts}
    themes = [k for k in movie.keywords if is_theme(k) and k.casefold() not in cited and len(k) > 3]
    overview = (movie.overview or "").casefold()
    themes.sort(key=lambda k: _mentioned_at(k, overview))
    facts.extend(Fact("theme", k) for k in themes[:MAX_THEMES])
    for genre in genres:
        titles = sharing(lambda m, g=genre: g in m.genres)
        if titles and Fact("taste", genre) not in facts:
            facts.append(Fact("genre", genre, titles))
    if review.strip():
        facts.append(Fact("review", " ".join(review.split())[:160]))
    if movie.year:
        facts.append(Fact("year", str(movie.year)))
    if language == "ko":  # a stable sort: the order within each group stays
        facts.sort(key=lambda f: (f.kind == "year", f.kind in CATALOG_WORDS))
    return Evidence(movie, tuple(facts))


def genre_name(genre: str, language: str) -> str:
    """A genre as the viewer reads it: Korean names, or lower case in English."""
    if language == "ko":
        return GENRES_KO.get(genre, genre)
    return genre if genre in ("Sci-Fi", "Film-Noir") else genre.lower()


def taste_value(value: str, language: str) -> str:
    """A taste fact's value as the prompt and the draft write it: a genre by its
    :func:`genre_name`, the viewer's own words as they are."""
    return genre_name(value, language) if value in GENRES_KO else value


_ARTICLE = re.compile(r"^(.*), (The|A|An)(\s*\(\d{4}\))?$")


def natural_title(title: str) -> str:
    """``Godfather, The`` as people write it: ``The Godfather``."""
    match = _ARTICLE.match(title)
    return f"{match.group(2)} {match.group(1)}{match.group(3) or ''}" if match else title


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _titles(titles: Sequence[str], language: str = "en") -> str:
    return (", " if language == "ko" else " and ").join(natural_title(t) for t in titles)


def evidence_lines(
    evidence: Evidence,
    language: str,
    *,
    avoid: Iterable[str] = (),
    limit: int = 4,
    say_watched: bool = True,
) -> str:
    """The evidence as prompt lines in the viewer's language (titles and names as in the
    catalog); at most ``limit`` facts, the lead fact first. In Korean, English catalog words
    (keywords, themes) are shown only when the lead fact is one. Without ``say_watched`` the
    English lines do not mark the ticked movies "(watched)" (see :func:`evidence_reason`)."""
    mark = " (watched)" if say_watched else ""
    lines = []
    ko = language == "ko"
    facts = evidence.lead(avoid)
    if ko and facts and facts[0].kind not in CATALOG_WORDS:
        facts = (facts[0], *(f for f in facts[1:] if f.kind not in CATALOG_WORDS))
    for fact in facts[:limit]:
        watched = _titles(fact.watched, language)
        if fact.kind == "director":
            lines.append(
                f"- 감독 {fact.value} (보신 {watched}의 감독)"
                if ko
                else f"- directed by {fact.value}, who also directed {watched}{mark}"
            )
        elif fact.kind == "cast":
            lines.append(
                f"- 출연 {fact.value} (보신 {watched}에도 출연)"
                if ko
                else f"- starring {fact.value}, who is also in {watched}{mark}"
            )
        elif fact.kind == "taste":
            value = taste_value(fact.value, language)
            lines.append(
                f"- 시청자가 좋아하는 {value} 취향에 맞음"
                if ko
                else f"- matches the viewer's words: '{value}'"
            )
        elif fact.kind == "keyword":
            lines.append(
                f"- 주제 '{fact.value}' (보신 {watched}에도 있음)"
                if ko
                else f"- theme '{fact.value}', shared with {watched}{mark}"
            )
        elif fact.kind == "theme":
            lines.append(f"- 주제 '{fact.value}'" if ko else f"- theme '{fact.value}'")
        elif fact.kind == "genre":
            name = genre_name(fact.value, language)
            lines.append(
                f"- {name} 장르 (보신 {watched}도 같은 장르)"
                if ko
                else f"- {_a(name)} {name} film, like {watched}{mark}"
            )
        elif fact.kind == "review":
            lines.append(f"- 리뷰: {fact.value}" if ko else f"- reviewers say: {fact.value}")
        elif fact.kind == "year":
            lines.append(f"- {fact.value}년 작품" if ko else f"- released in {fact.value}")
    return "\n".join(lines) or ("- (특별한 근거 없음)" if ko else "- (no shared facts)")


def evidence_reason(
    evidence: Evidence, language: str, *, avoid: Iterable[str] = (), say_watched: bool = True
) -> str:
    """One true sentence from the lead fact, without a model (the flagged fallback, and the
    draft the model rephrases). In Korean no particle whose form depends on the sound before
    it (이/가, 은/는, 을/를, 와/과) follows a title, name or keyword: "{first}와 같은" was right
    after "Heat" and wrong after "The Godfather", and the model copied it ("Kate Winslet가").
    Without ``say_watched`` an English sentence leaves out
    ", which you watched" after the ticked title: given it in the draft, Qwen 0.5B said it of
    the card ("The movie 'Memento' ... flashbacks, which you watched.", 3 of the 9 false
    reasons of the words v8 hand sample)."""
    ko = language == "ko"
    watched = ", which you watched" if say_watched else ""
    movie = evidence.movie
    facts = evidence.lead(avoid)
    fact = next((f for f in facts if f.kind != "review"), None)
    if fact is None:
        kinds = [genre_name(g, language) for g in movie.genres if g not in NON_TASTE_GENRES][:2]
        if ko:
            return f"{' '.join(kinds) or '이'} 영화예요."
        return f"A {' '.join(kinds) or 'catalog'} film." if kinds else "A film from the catalog."
    first = natural_title(fact.watched[0]) if fact.watched else ""
    if fact.kind == "director":
        return (
            f"보신 {first}의 감독 {fact.value}의 영화예요."
            if ko
            else f"Directed by {fact.value}, like {first}{watched}."
        )
    if fact.kind == "cast":
        return (
            f"보신 {first}에도 나온 배우 {fact.value}의 출연작이에요."
            if ko
            else f"With {fact.value}, who is also in {first}{watched}."
        )
    if fact.kind == "taste":
        value = taste_value(fact.value, language)
        return (
            f"좋아한다고 하신 {value} 취향에 맞는 영화예요."
            if ko
            else f"Fits your taste for {value}."
        )
    if fact.kind == "keyword":
        return (
            f"보신 {first}처럼 {fact.value} 주제를 다루는 영화예요."
            if ko
            else f"About {fact.value}, like {first}{watched}."
        )
    if fact.kind == "theme":
        # not "A film about X.": a keyword need not be what the film is about, and a bare
        # noun read as broken ("A film about nurse." on Rear Window, read false and garbled)
        return (
            f"{fact.value} 주제를 다루는 영화예요." if ko else f"Its themes include {fact.value}."
        )
    if fact.kind == "genre":
        name = genre_name(fact.value, language)
        return (
            f"보신 {first}처럼 {name} 영화예요."
            if ko
            else f"{_a(name).capitalize()} {name} film, like {first}{watched}."
        )
    return f"{fact.value}년 작품이에요." if ko else f"A film from {fact.value}."
