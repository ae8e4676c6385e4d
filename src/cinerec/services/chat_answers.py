"""Answers built from the database for resolved questions, in English or Korean.

For a single fact, a list, or a comparison (see :mod:`cinerec.services.chat_understand`) the
facts come from structured catalog queries (:mod:`cinerec.db.movie_queries`) and a template
writes a complete, cited answer from them: the *draft*. The model may then phrase the draft
(:mod:`cinerec.llm.chat.phrase`); when it fails, or its text does not pass the checks, the draft
is the answer. When the catalog lacks the fact (no director stored, a movie it does not have,
the future) the answer says so deterministically and the model is not asked: it would guess.

Example:
    >>> heat = Movie(6, "Heat", 1995, ("Crime",))
    >>> fact_answer(Query("fact", field="director", movies=(heat,)), "en").text
    'The catalog has no director for Heat (1995) [#6], so I cannot say who directed it.'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cinerec.data.types import Movie
from cinerec.db.movie_queries import movies_by_person, movies_matching
from cinerec.services.chat_understand import ChatState, Query
from cinerec.text.lang import GENRES_KO

#: Most movies an answer lists.
MAX_LISTED = 8
#: The newest release year the catalog holds (MovieLens latest-small ends in 2018).
NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class PlannedAnswer:
    """A complete answer from catalog facts, and what the model may phrase.

    Attributes:
        text: The template answer (cited, in the question's language).
        facts: The movies the answer is built from (all the model is told about).
        cited_ids: Ids the text cites.
        required: Strings any phrasing must keep (names, years, counts).
        deterministic: The catalog lacks the fact: the text is final, the model is not asked.
        state: What this turn resolved, for follow-ups.
        kind: The question's kind (``fact``, ``list``, ``compare``, ``unknown``).
        extra_names: People the answer may name besides the facts' own (the asked person).
        verdict: For a comparison, ``(winner, other)``: the movie the answer says is older,
            newer or more rated, and the other one; a phrasing must keep that order.
        verdict_fact: For a comparison, the verdict as one plain sentence ("X is older than
            Y."), given to the model beside the facts so that it does not have to work it out.
        lead: What a phrasing may be made to start with. For a list besides the conversation's
            movie, "Besides Memento (2000)," (Korean "Memento (2000) 외에"). For a comparison,
            the start of the verdict:
            the winner's title (the subject of the verdict is then the right movie); for
            "more ratings", also the verdict and the winner's count, as the draft has them.
        values: For a comparison, each movie's compared value (year or ratings count) by id:
            a phrasing must keep each with its movie.
        context: Movies the text names besides its facts, from the conversation ("Besides
            Memento (2000), ..."): a phrasing may name them too.
    """

    text: str
    facts: tuple[Movie, ...]
    cited_ids: tuple[int, ...]
    required: tuple[str, ...]
    deterministic: bool
    state: ChatState
    kind: str
    extra_names: tuple[str, ...] = ()
    verdict: tuple[int, int] | None = None
    verdict_fact: str = ""
    lead: str = ""
    context: tuple[Movie, ...] = ()
    values: tuple[tuple[int, str], ...] = ()

    def cited_parts(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(names, refs)``: the citations of :attr:`cited_ids` as :attr:`text` writes them
        ("Heat (1995) [#6]"), and the :attr:`required` names it gives before the first of
        them ("Simon Wells directed ..."), each in the order they appear there."""
        by_id = {m.movie_id: m for m in (*self.facts, *self.context)}
        cited = {_ref(by_id[i]) for i in self.cited_ids if i in by_id}
        refs = tuple(sorted((r for r in cited if r in self.text), key=self.text.index))
        first = self.text.find(refs[0]) if refs else 0
        names = sorted(
            (r for r in self.required if 0 <= self.text.find(r) < first), key=self.text.find
        )
        return tuple(names), refs


def _ref(movie: Movie) -> str:
    return f"{movie.display_title} [#{movie.movie_id}]"


def _join(items: Sequence[str], language: str) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if language == "ko":
        return ", ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _genres(movie: Movie, language: str) -> list[str]:
    genres = [g for g in movie.genres if g != NO_GENRES]
    return [GENRES_KO.get(g, g) for g in genres] if language == "ko" else genres


def _unknown(text: str, movies: Sequence[Movie], state: ChatState) -> PlannedAnswer:
    return PlannedAnswer(
        text=text,
        facts=tuple(movies),
        cited_ids=tuple(m.movie_id for m in movies),
        required=(),
        deterministic=True,
        state=state,
        kind="unknown",
    )


def fact_answer(query: Query, language: str) -> PlannedAnswer:
    """One fact (director, cast, year, genre) of one movie, or that the catalog lacks it."""
    movie = query.movies[0]
    ko = language == "ko"
    ref = _ref(movie)
    state = ChatState(movie_ids=(movie.movie_id,))
    if query.field == "director":
        names = movie.directors
        if not names:
            return _unknown(
                f"카탈로그에 {ref}의 감독 정보가 없어 누가 감독했는지 알 수 없습니다."
                if ko
                else f"The catalog has no director for {ref}, so I cannot say who directed it.",
                [movie],
                state,
            )
        who = _join(names, language)
        text = f"{ref}의 감독은 {who}입니다." if ko else f"{ref} was directed by {who}."
        state = ChatState(movie_ids=(movie.movie_id,), person=names[0], role="director")
        required: tuple[str, ...] = tuple(names)
    elif query.field == "cast":
        if not movie.cast:
            return _unknown(
                f"카탈로그에 {ref}의 출연진 정보가 없어 누가 출연했는지 알 수 없습니다."
                if ko
                else f"The catalog has no cast for {ref}, so I cannot say who starred in it.",
                [movie],
                state,
            )
        cast = list(movie.cast[:3])
        who = _join(cast, language)
        text = f"{ref}의 주요 출연진은 {who}입니다." if ko else f"{ref} stars {who}."
        state = ChatState(movie_ids=(movie.movie_id,), person=cast[0], role="cast")
        required = tuple(cast[:1])
    elif query.field == "year":
        if not movie.year:
            return _unknown(
                f"카탈로그에 {movie.title} [#{movie.movie_id}]의 개봉 연도 정보가 없습니다."
                if ko
                else f"The catalog has no release year for {movie.title} [#{movie.movie_id}].",
                [movie],
                state,
            )
        text = (
            f"{movie.title} [#{movie.movie_id}]의 개봉 연도는 {movie.year}년입니다."
            if ko
            else f"{movie.title} [#{movie.movie_id}] was released in {movie.year}."
        )
        required = (str(movie.year),)
    else:
        genres = _genres(movie, language)
        if not genres:
            return _unknown(
                f"카탈로그에 {ref}의 장르 정보가 없습니다."
                if ko
                else f"The catalog lists no genre for {ref}.",
                [movie],
                state,
            )
        listed = _join(genres, language)
        text = f"{ref}의 장르는 {listed}입니다." if ko else f"{ref} is listed as {listed}."
        required = (genres[0],)
    return PlannedAnswer(text, (movie,), (movie.movie_id,), required, False, state, "fact")


def _span(query: Query, language: str) -> str:
    lo, hi = query.year_from, query.year_to
    if lo is None and hi is None:
        return ""
    ko = language == "ko"
    if lo is not None and hi is not None and hi - lo == 9 and lo % 10 == 0:
        return f"{lo}년대 " if ko else f" from the {lo}s"
    if lo is not None and hi is not None and lo == hi:
        return f"{lo}년 " if ko else f" from {lo}"
    if lo is not None and hi is not None:
        return f"{lo}–{hi}년 " if ko else f" from {lo} to {hi}"
    if lo is None:
        return f"{hi}년 이전 " if ko else f" before {hi + 1}"  # type: ignore[operator]
    return f"{lo}년 이후 " if ko else f" from {lo} on"


def _filtered(movies: Sequence[Movie], query: Query) -> list[Movie]:
    kept = []
    for m in movies:
        if m.movie_id in query.exclude:
            continue
        if query.year_from is not None and (m.year is None or m.year < query.year_from):
            continue
        if query.year_to is not None and (m.year is None or m.year > query.year_to):
            continue
        if query.genre and query.genre not in m.genres:
            continue
        kept.append(m)
    return kept


def list_answer(session: Session, query: Query, language: str) -> PlannedAnswer:
    """Movies of a person (directed, acted in, either), or of years and a genre, from the DB."""
    ko = language == "ko"
    named = tuple(query.movies)
    state_ids = tuple(m.movie_id for m in named)
    if query.person:
        person = query.person
        found = _filtered(movies_by_person(session, name=person, role=query.role), query)
        if not found and query.role == "any":
            found = []
        total = len(found)
        shown = found[:MAX_LISTED]
        refs = _join([_ref(m) for m in shown], language)
        besides = _join([m.display_title for m in named if m.movie_id in query.exclude], language)
        span = _span(query, language)
        genre = (
            (GENRES_KO.get(query.genre, query.genre) if ko else query.genre) if query.genre else ""
        )
        verb_en = {"director": "directed", "cast": "acted in", "any": "made or acted in"}[
            query.role
        ]
        # "X 감독의 영화", "X 출연 영화": no particle after the name, whose last sound a
        # template cannot know (Qwen 1.5B turned "X이(가)" into "X는(가)", words v19)
        role_ko = {"director": "감독의", "cast": "출연", "any": "감독 또는 출연"}[query.role]
        if not shown:
            other = ("다른 " if ko else "other ") if query.exclude else ""
            text = (
                f"카탈로그에는 {person} {role_ko} {span}{genre + ' ' if genre else ''}"
                f"{other}영화가 없습니다."
                if ko
                else f"The catalog has no {other}{genre + ' ' if genre else ''}movies{span} "
                f"that {person} {verb_en}."
            )
            return PlannedAnswer(
                text, named, state_ids, (person,), True,
                ChatState(movie_ids=state_ids, person=person, role=_role(query)),
                "list", (person,),
            )  # fmt: skip
        if ko:
            head = f"{besides} 외에 " if besides else ""
            kind = f"{span}{genre + ' ' if genre else ''}"
            text = f"{head}카탈로그에 있는 {person} {role_ko} {kind}영화: {refs}."
            if total > len(shown):
                text += f" (모두 {total}편 중 평가가 많은 {len(shown)}편)"
        else:
            head = f"Besides {besides}, " if besides else ""
            lead = f"{head}{person} {verb_en}" if head else f"{person} {verb_en}"
            what = f"these {genre + ' ' if genre else ''}catalog movies{span}"
            text = f"{lead} {what}: {refs}."
            if total > len(shown):
                text += f" These are the {len(shown)} most rated of {total}."
        state = ChatState(
            movie_ids=state_ids,
            person=person,
            role=_role(query),
            listed_ids=tuple(m.movie_id for m in shown),
        )
        # "Besides Friday (1995)" must stay in a phrasing (check_phrasing's context): "the 8
        # most rated of 15" does not count it. The 0.5B model dropped it from 30 of 30 English
        # phrasings (replayed chat run), so a phrasing may be made to start with it.
        return PlannedAnswer(
            text, tuple(shown), tuple(m.movie_id for m in shown), (person,), False, state,
            "list", (person,), context=tuple(m for m in named if m.movie_id in query.exclude),
            lead=(f"{besides} 외에" if ko else f"Besides {besides},") if besides else "",
        )  # fmt: skip
    found = movies_matching(
        session,
        year_from=query.year_from,
        year_to=query.year_to,
        genre=query.genre,
        limit=MAX_LISTED,
    )
    span = _span(query, language)
    genre = (GENRES_KO.get(query.genre, query.genre) if ko else query.genre) if query.genre else ""
    if not found:
        text = (
            f"카탈로그에 {span}{genre + ' ' if genre else ''}영화가 없습니다."
            if ko
            else f"The catalog has no {genre + ' ' if genre else ''}movies{span}."
        )
        return PlannedAnswer(text, (), (), (), True, ChatState(), "list")
    refs = _join([_ref(m) for m in found], language)
    text = (
        f"카탈로그에서 평가가 가장 많은 {span}{genre + ' ' if genre else ''}영화: {refs}."
        if ko
        else f"The most rated {genre + ' ' if genre else ''}movies{span} in the catalog: {refs}."
    )
    state = ChatState(listed_ids=tuple(m.movie_id for m in found))
    return PlannedAnswer(
        text, tuple(found), tuple(m.movie_id for m in found), (), False, state, "list"
    )


def _role(query: Query) -> str | None:
    return None if query.role == "any" else query.role


def compare_answer(query: Query, language: str, popularity: dict[int, int]) -> PlannedAnswer:
    """Which of two movies is older or newer (years), or has more ratings (counts)."""
    a, b = query.movies[:2]
    ko = language == "ko"
    ids = (a.movie_id, b.movie_id)
    state = ChatState(movie_ids=ids, listed_ids=ids)
    ra, rb = _ref(a), _ref(b)
    if query.order == "better_rated":
        pa, pb = popularity.get(a.movie_id, 0), popularity.get(b.movie_id, 0)
        text = (
            f"카탈로그에는 평균 평점이 없어 어느 쪽이 더 높게 평가됐는지 알 수 없습니다. "
            f"평가 수는 {ra} {pa}개, {rb} {pb}개입니다."
            if ko
            else "The catalog does not store average ratings, so I cannot say which is rated "
            f"higher. It counts {pa} ratings for {ra} and {pb} for {rb}."
        )
        return _unknown(text, [a, b], state)
    if query.order in ("older", "newer"):
        if not a.year or not b.year:
            missing = a if not a.year else b
            return _unknown(
                f"카탈로그에 {_ref(missing)}의 개봉 연도가 없어 비교할 수 없습니다."
                if ko
                else f"The catalog has no release year for {_ref(missing)}, so I cannot compare.",
                [a, b],
                state,
            )
        if a.year == b.year:
            text = (
                f"{ra}, {rb} 두 영화 모두 {a.year}년에 개봉했습니다."
                if ko
                else f"{ra} and {rb} were both released in {a.year}."
            )
            return PlannedAnswer(text, (a, b), ids, (str(a.year),), False, state, "compare")
        first, second = (a, b) if a.year < b.year else (b, a)
        if query.order == "older":
            win, lose = first, second
            text = (
                f"더 오래된 영화는 {_ref(win)}입니다: {win.year}년에 개봉했고, {_ref(lose)}의 "
                f"개봉 연도는 {lose.year}년입니다."
                if ko
                else f"{_ref(win)} is older: it came out in {win.year}, and {_ref(lose)} in "
                f"{lose.year}."
            )
        else:
            win, lose = second, first
            text = (
                f"더 최근 영화는 {_ref(win)}입니다: {win.year}년에 개봉했고, {_ref(lose)}의 "
                f"개봉 연도는 {lose.year}년입니다."
                if ko
                else f"{_ref(win)} is newer: it came out in {win.year}, and {_ref(lose)} in "
                f"{lose.year}."
            )
        state = ChatState(movie_ids=(win.movie_id, lose.movie_id), listed_ids=ids)
        older = query.order == "older"
        fact = (
            f"{_ref(win)}의 개봉이 {_ref(lose)}보다 {'먼저' if older else '나중'}입니다."
            if ko
            else f"{_ref(win)} is {'older' if older else 'newer'} than {_ref(lose)}."
        )
        return PlannedAnswer(
            text,
            (a, b),
            ids,
            (str(win.year), str(lose.year)),
            False,
            state,
            "compare",
            verdict=(win.movie_id, lose.movie_id),
            verdict_fact=fact,
            # Korean: the draft's verdict clause up to the winner, so the model writes no
            # particle after a title whose last sound it cannot know ("X는(가)", words v19)
            lead=(
                f"더 {'오래된' if older else '최근'} 영화는 {win.display_title}"
                if ko
                else win.display_title
            ),
            values=((win.movie_id, str(win.year)), (lose.movie_id, str(lose.year))),
        )
    pa, pb = popularity.get(a.movie_id, 0), popularity.get(b.movie_id, 0)
    if pa == pb:
        text = (
            f"{ra}, {rb} 두 영화의 평가 수는 {pa}개로 같습니다."
            if ko
            else f"{ra} and {rb} have the same number of ratings in the catalog ({pa})."
        )
        return PlannedAnswer(text, (a, b), ids, (str(pa),), False, state, "compare")
    (win, nw), (lose, nl) = sorted([(a, pa), (b, pb)], key=lambda x: -x[1])
    if query.order == "less_rated":
        (win, nw), (lose, nl) = (lose, nl), (win, nw)
    more = query.order != "less_rated"
    text = (
        f"카탈로그에서 {_ref(win)}의 평가 수가 더 {'많' if more else '적'}습니다: {nw}개, "
        f"{_ref(lose)}의 평가 수는 {nl}개입니다."
        if ko
        else f"{_ref(win)} has {'more' if more else 'fewer'} ratings in the catalog: {nw}, "
        f"against {nl} for {_ref(lose)}."
    )
    state = ChatState(movie_ids=(win.movie_id, lose.movie_id), listed_ids=ids)
    fact = (
        f"{_ref(win)}의 평가 수({nw}개)가 {_ref(lose)}의 평가 수({nl}개)보다 "
        f"{'많' if more else '적'}습니다."
        if ko
        else f"{_ref(win)} has {'more' if more else 'fewer'} ratings ({nw}) than {_ref(lose)} "
        f"({nl})."
    )
    return PlannedAnswer(
        text,
        (a, b),
        ids,
        (str(nw), str(nl)),
        False,
        state,
        "compare",
        verdict=(win.movie_id, lose.movie_id),
        verdict_fact=fact,
        # The draft's own verdict up to the winner's count, forced: the 0.5B model led by the
        # title alone wrote "X의 평가 수가 더 많은 영화는 Y입니다" (the other one).
        lead=(
            f"{win.display_title}의 평가 수가 더 {'많' if more else '적'}습니다: {nw}개"
            if ko
            else f"{win.display_title} has {'more' if more else 'fewer'} ratings in the catalog: "
            f"{nw}"
        ),
        values=((win.movie_id, str(nw)), (lose.movie_id, str(nl))),
    )


def unknown_answer(query: Query, language: str, *, newest_year: int) -> PlannedAnswer:
    """The catalog cannot answer: a movie it does not have, or the future."""
    ko = language == "ko"
    if query.kind == "future":
        text = (
            f"카탈로그에는 {newest_year}년까지 개봉한 영화만 있어 앞으로의 작품이나 계획은 알 수 "
            "없습니다."
            if ko
            else f"The catalog only has movies released up to {newest_year}, so it does not "
            "know about future movies or plans."
        )
    else:
        title = query.asked_title
        if ko:
            text = (
                f"카탈로그에 {title}에 대한 정보가 없어 답할 수 없습니다."
                if title
                else "카탈로그에서 그 영화를 찾지 못해 답할 수 없습니다."
            )
        else:
            text = (
                f"The catalog does not have {title}, so I cannot answer."
                if title
                else "I could not find that movie in the catalog, so I cannot answer."
            )
        near = [_ref(m) for m in query.near]
        if near:
            text += (
                f" 카탈로그에 있는 비슷한 제목: {_join(near, language)}."
                if ko
                else f" Close titles it does have: {_join(near, language)}."
            )
        return _unknown(text, query.near, ChatState(movie_ids=(), listed_ids=_ids(query.near)))
    return _unknown(text, [], ChatState())


def _ids(movies: Sequence[Movie]) -> tuple[int, ...]:
    return tuple(m.movie_id for m in movies)


def plan_answer(
    session: Session,
    query: Query,
    language: str,
    *,
    newest_year: int,
    popularity: dict[int, int] | None = None,
) -> PlannedAnswer | None:
    """The answer for a resolved question, or None for an open one (retrieval and the model)."""
    if query.kind == "fact" and query.movies:
        return fact_answer(query, language)
    if query.kind == "list":
        return list_answer(session, query, language)
    if query.kind == "compare" and len(query.movies) >= 2:
        return compare_answer(query, language, popularity or {})
    if query.kind in ("not_in_catalog", "future"):
        return unknown_answer(query, language, newest_year=newest_year)
    return None
