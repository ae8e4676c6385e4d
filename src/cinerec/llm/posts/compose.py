"""Curated posts: a three-line caption and a grounded one-line review per picked movie.

Two kinds of schema-constrained calls, each with example turns (see
:mod:`cinerec.llm.posts.prompts`). The plan: the model sees the theme and a short list of grounded
candidates (catalog facts: title, genres, a plot snippet) and answers the ids of its picks and
the caption's three lines (hook, mood, invitation). Then one call per pick writes its one-line
review from that movie's facts alone (synopsis, and review highlights when there are any):
small models asked for all reviews at once, or shown the others, copy one template.

Nothing the model says is trusted: ids must be candidates and unique (missing picks are filled
with the best unused candidates), every text is cleaned and checked (:mod:`cinerec.llm.grounding`
titles, names the facts lack, language, length, loops, copied examples; see
:mod:`cinerec.llm.posts.checks`). Titles are never the model's: they come from the candidates
(the catalog). A bad plan is retried warmer with a note of what was wrong; when the retries are
spent, the bad caption lines of the last plan become plain template lines (flagged). One-liners
are compared pairwise (:func:`cinerec.text.similarity.text_similarity`, titles removed); one too
similar to an earlier one is rewritten with the lines and shared words to avoid, and one that
stays alike or unusable becomes a factual line from the synopsis (flagged). A draft without a
usable plan has no post: callers report it, never publish it.

Example:
    >>> draft = write_post(backend, "rainy day", candidates, n=5)  # doctest: +SKIP
    >>> draft.post.model_dump() if draft.post else draft.problems  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cinerec.data.types import Movie
from cinerec.errors import LLMError
from cinerec.llm.backends.base import Completion, LLMBackend, Message, guarded
from cinerec.llm.concept_words import unsupported_words
from cinerec.llm.genre_words import banned_genre_words
from cinerec.llm.grounding import sanitize_user_text
from cinerec.llm.posts.checks import (
    CAPTION_LINES,
    MAX_CAPTION_LINE_CHARS,
    MAX_REVIEW_CHARS,
    caption_line_problems,
    check_review,
    movie_facts_text,
    repair_caption,
    synopsis_review,
)
from cinerec.llm.posts.korean_lines import korean_review_pattern
from cinerec.llm.posts.prompts import (
    EXAMPLE_LINES,
    EXAMPLE_MARKERS,
    PostCandidate,
    post_messages,
    review_messages,
)
from cinerec.llm.schemas import json_schema, parse_reply
from cinerec.llm.word_ban import LETTERS, separator, unbanned_word
from cinerec.text.lang import language_or_default
from cinerec.text.similarity import mean_pairwise_similarity, plain_text, text_similarity

log = logging.getLogger(__name__)

ONE_LINER_MAX_CHARS = max(MAX_REVIEW_CHARS.values())
# Generation budgets: the plan (ids are added per pick) and one review; Korean needs more.
_PLAN_TOKENS = {"en": 90, "ko": 150}
_REVIEW_TOKENS = {"en": 50, "ko": 80}
# A one-liner's grammar in words, a little over MAX_REVIEW_CHARS (120 English, 80 Korean
# characters): check_review cuts a longer line at a clean end, as it did the grammar's cut at
# maxLength. A tighter cap ended lines mid-thought: at 18 words Qwen 0.5B turned "from a German
# army." into "from a Germanic" and Chinese (any non-letter may close a line).
_REVIEW_WORDS = {"en": 24, "ko": 18}
_REVIEW_WORD_CHARS = 16

_STOP = frozenset(
    "a an and the of in on to for with at by from is it its this that as but or be are was "
    "his her their who whom into out up about than then so very more most one two".split()
)


# --- public output --------------------------------------------------------------------------


class PostMovie(BaseModel):
    """One pick of a post: catalog id and title (from the database), and the one-liner."""

    model_config = ConfigDict(extra="forbid")

    id: int
    title: str = Field(min_length=1)
    one_line_review: str = Field(min_length=1, max_length=ONE_LINER_MAX_CHARS)

    @field_validator("one_line_review")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or not value.strip():
            raise ValueError("a one-line review is one non-empty line")
        return value


class Post(BaseModel):
    """A publishable post: ``{caption: "l1\\nl2\\nl3", movies: [{id, title, one_line_review}]}``."""

    model_config = ConfigDict(extra="forbid")

    caption: str
    movies: list[PostMovie] = Field(min_length=1)

    @field_validator("caption")
    @classmethod
    def _three_lines(cls, value: str) -> str:
        lines = value.split("\n")
        if len(lines) != CAPTION_LINES or any(not line.strip() for line in lines):
            raise ValueError(f"the caption must be exactly {CAPTION_LINES} non-empty lines")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Post:
        ids = [m.id for m in self.movies]
        if len(set(ids)) != len(ids):
            raise ValueError("a movie appears twice in the post")
        return self


# --- model reply schemas --------------------------------------------------------------------


class CaptionOut(BaseModel):
    """The three caption lines, each with its role (named keys keep small models from writing
    the same line three times)."""

    model_config = ConfigDict(extra="forbid", title="caption")
    hook: str
    mood: str
    invite: str

    @property
    def lines(self) -> list[str]:
        return [self.hook, self.mood, self.invite]


class PlanOut(BaseModel):
    """The plan reply: the picked ids, best first, and the caption."""

    model_config = ConfigDict(extra="forbid", title="post")
    ids: list[int]
    caption: CaptionOut


class ReviewOut(BaseModel):
    """The reply when one one-liner is written."""

    model_config = ConfigDict(extra="forbid", title="review")
    review: str


def plan_schema(candidate_ids: Sequence[int], *, n: int, language: str = "en") -> dict[str, Any]:
    """JSON schema of :class:`PlanOut`: exactly ``n`` ids from ``candidate_ids`` (duplicates are
    removed by the caller) and the 3 length-bounded caption lines."""
    ids = [int(i) for i in dict.fromkeys(candidate_ids)]
    if not ids:
        raise ValueError("plan_schema needs at least one candidate id")
    count = max(1, min(n, len(ids)))
    schema = json_schema(PlanOut)
    schema["properties"]["ids"].update(
        items={"type": "integer", "enum": ids}, minItems=count, maxItems=count
    )
    for line in schema["properties"]["caption"]["properties"].values():
        line.update(minLength=1, maxLength=MAX_CAPTION_LINE_CHARS[language])
    return schema


def review_pattern(language: str = "en", banned: Sequence[str] = ()) -> str:
    """One line of at most ``_REVIEW_WORDS[language]`` words, none of them in ``banned``
    (:func:`cinerec.llm.word_ban.unbanned_word`), with 1-3 separators (a space, light
    punctuation, a sentence mark: :data:`cinerec.llm.word_ban.SEPARATORS`) between two words."""
    word = unbanned_word(banned, LETTERS, _REVIEW_WORD_CHARS)
    other = separator(".!?")
    most = _REVIEW_WORDS[language]
    return f"^{other}{{0,3}}({word}{other}{{1,3}}){{0,{most - 1}}}{word}{other}{{0,3}}$"


def review_schema(
    language: str = "en", movie: Movie | None = None, theme: str = ""
) -> dict[str, Any]:
    """JSON schema of :class:`ReviewOut` with a bounded review; for ``movie``, the review's
    pattern bans the genre words the movie lacks
    (:func:`cinerec.llm.genre_words.banned_genre_words`): "Fight Club is a twist on the
    classic horror film" cannot be written; and the concrete nouns its record (and ``theme``)
    never support (:func:`cinerec.llm.concept_words.unsupported_words`): no shark in Friday,
    no example's Paris waitress in Star Trek IV. A Korean review may use only the words of
    :func:`cinerec.llm.posts.korean_lines.korean_review_pattern` (the record's names, its
    genres and words that state no plot)."""
    schema = json_schema(ReviewOut)
    review = schema["properties"]["review"]
    review.update(minLength=1, maxLength=MAX_REVIEW_CHARS[language])
    if movie is not None and language == "ko":  # the record's names and plot-free words only
        review["pattern"] = korean_review_pattern(movie)
    elif movie is not None:  # the grammar follows the pattern (llama.cpp ignores the lengths)
        banned = (
            *banned_genre_words(movie),
            *unsupported_words(movie_facts_text(movie), allowed=[theme] if theme else ()),
        )
        review["pattern"] = review_pattern(language, banned)
    return schema


# --- inputs, config, result -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostConfig:
    """Retry and distinctness policy of :func:`write_post`.

    ``max_attempts`` plan calls (the first at temperature 0, retries at ``retry_temperature``
    with a note of what was wrong); ``review_attempts`` calls per one-liner before the synopsis
    line is used; ``max_rewrites`` rewrites of a one-liner whose similarity to an earlier one
    is at least ``similarity_threshold``.
    """

    max_attempts: int = 3
    review_attempts: int = 2
    max_rewrites: int = 2
    similarity_threshold: float = 0.5
    retry_temperature: float = 0.7
    max_model_candidates: int = 12
    timeout_s: float = 120.0


@dataclass(frozen=True)
class PostDraft:
    """What :func:`write_post` made: a valid post, or None with the problems that stopped it.

    ``review_calls`` counts one-liner calls (first writes, retries and rewrites); ``rewritten``
    the one-liners rewritten for being too similar; ``synopsis_reviews`` and ``template_lines``
    the one-liners and caption lines that are deterministic fallbacks (flagged in ``notes``);
    ``similarity_before``/``_after`` the mean pairwise one-liner similarity before and after
    the rewrites. ``raw_outputs`` holds every model reply as it came (``(call, text)``, call
    ``plan`` or ``review <id>``) and ``repairs`` what the checks changed on the way to the post
    (caption lines replaced by template lines, one-liners from the synopsis, rewrites): for
    measuring the model, never shown.
    """

    post: Post | None
    problems: tuple[str, ...]
    model: str
    attempts: int = 0
    review_calls: int = 0
    rewritten: int = 0
    synopsis_reviews: int = 0
    template_lines: int = 0
    similarity_before: float = 0.0
    similarity_after: float = 0.0
    elapsed_s: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    raw_outputs: tuple[tuple[str, str], ...] = ()
    repairs: tuple[str, ...] = ()


def shared_words(line: str, others: Sequence[str], strip: Sequence[str] = ()) -> list[str]:
    """Content words ``line`` shares with ``others`` (titles in ``strip`` left out)."""
    mine = set(plain_text(line, strip).split())
    theirs = {w for other in others for w in plain_text(other, strip).split()}
    return sorted(w for w in mine & theirs if len(w) > 2 and w not in _STOP)[:12]


# --- generation -----------------------------------------------------------------------------


class _Writer:
    """One post's generation state: the backend, counters and problems seen."""

    def __init__(
        self,
        backend: LLMBackend,
        theme: str,
        candidates: Sequence[PostCandidate],
        language: str,
        config: PostConfig,
    ) -> None:
        self.backend, self.theme, self.language, self.config = backend, theme, language, config
        self.candidates = list(candidates)
        self.by_id = {c.movie.movie_id: c for c in self.candidates}
        self.others = [c.movie for c in self.candidates]
        self.attempts = self.review_calls = 0
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.raw: list[tuple[str, str]] = []
        self.repairs: list[str] = []
        self.template_lines = 0

    def _complete(
        self,
        messages: list[Message],
        schema: dict[str, Any],
        tokens: int,
        temp: float,
        call: str,
    ) -> Completion:
        completion = self.backend.complete(
            messages,
            schema=schema if self.backend.supports_schema else None,
            max_tokens=tokens,
            temperature=temp,
            timeout_s=self.config.timeout_s,
        )
        self.raw.append((call, completion.text))
        return completion

    def plan(self, n: int) -> tuple[str, list[int]] | None:
        """Caption and picked ids from plan calls, retried with a note of what was wrong.

        A plan is kept when all three caption lines are good and at least half its ids are
        usable (the rest are filled later). When the retries are spent, the last parsed plan is
        kept with its bad caption lines replaced by template lines (noted); None when no
        attempt parsed at all.
        """
        schema = plan_schema(list(self.by_id), n=n, language=self.language)
        tokens = _PLAN_TOKENS[self.language] + 8 * n
        note = ""
        last: tuple[list[str], dict[int, str], list[int]] | None = None
        for attempt in range(1, self.config.max_attempts + 1):
            self.attempts += 1
            temp = 0.0 if attempt == 1 else self.config.retry_temperature
            messages = post_messages(
                self.theme, self.candidates, n=n, language=self.language, note=note
            )
            try:
                reply = parse_reply(
                    self._complete(messages, schema, tokens, temp, "plan").text, PlanOut
                )
            except LLMError as exc:
                self.problems.append(f"attempt {attempt}: {exc}")
                note = "it was not valid JSON of the required shape."
                continue
            ids, problems = self._ids(reply.ids, n)
            lines, bad = caption_line_problems(
                reply.caption.lines,
                [self.by_id[i].movie for i in ids],
                theme=self.theme,
                language=self.language,
                forbidden=EXAMPLE_LINES[self.language],
            )
            if ids:
                last = (lines, bad, ids)
            if not bad and len(ids) * 2 >= n:
                self.problems.extend(f"attempt {attempt}: {p}" for p in problems)
                return "\n".join(lines), ids
            problems = [*bad.values(), *problems]
            self.problems.extend(f"attempt {attempt}: {p}" for p in problems)
            note = "; ".join(problems[:4]) + "."
        if last is None:
            return None
        lines, bad, ids = last
        if bad:
            fixed = repair_caption(lines, bad, theme=self.theme, language=self.language)
            self.repairs += [
                f"caption line {k + 1} ({bad[k]}): {lines[k]!r} -> template {fixed[k]!r}"
                for k in sorted(bad)
            ]
            lines = fixed
            self.notes.append(f"caption lines {sorted(k + 1 for k in bad)} are template lines")
            self.template_lines = len(bad)
        return "\n".join(lines), ids

    def _ids(self, ids: Sequence[int], n: int) -> tuple[list[int], list[str]]:
        kept: list[int] = []
        problems: list[str] = []
        for movie_id in ids:
            if movie_id not in self.by_id:
                problems.append(f"id {movie_id} is not a candidate")
            elif movie_id in kept:
                problems.append(f"id {movie_id} was picked twice")
            else:
                kept.append(movie_id)
        return kept[:n], problems

    def review(
        self,
        movie_id: int,
        avoid: Sequence[str] = (),
        banned: Sequence[str] = (),
        temp: float = 0.0,
    ) -> str | None:
        """One one-liner for ``movie_id``, or None when the model's is unusable."""
        candidate = self.by_id[movie_id]
        messages = review_messages(
            self.theme, candidate, language=self.language, avoid=avoid, banned=banned
        )
        self.review_calls += 1
        try:
            completion = self._complete(
                messages,
                review_schema(self.language, candidate.movie, self.theme),
                _REVIEW_TOKENS[self.language],
                temp,
                f"review {movie_id}",
            )
            text = parse_reply(completion.text, ReviewOut).review
        except LLMError as exc:
            self.problems.append(f"review of {movie_id}: {exc}")
            return None
        cleaned, problem = check_review(
            text,
            candidate.movie,
            self.others,
            theme=self.theme,
            language=self.language,
            forbidden=EXAMPLE_LINES[self.language],
            markers=EXAMPLE_MARKERS,
        )
        if not problem and (borrowed := self._borrowed(cleaned, candidate.movie, banned)):
            problem = f"the review of {movie_id} reuses {borrowed[0]!r} from another review"
        if problem:
            self.problems.append(problem)
            return None
        return cleaned

    @staticmethod
    def _borrowed(text: str, movie: Movie, banned: Sequence[str]) -> list[str]:
        """Banned words (taken from the lines to avoid) in a rewrite that its own facts lack."""
        words = set(plain_text(text).split())
        facts = set(plain_text(movie_facts_text(movie)).split())
        return [w for w in banned if w in words and w not in facts]

    def first_review(self, movie_id: int) -> str:
        """A one-liner from the movie's facts alone (other reviews in view get copied), retried
        warmer; "" when none is usable."""
        for attempt in range(self.config.review_attempts):
            temp = 0.0 if attempt == 0 else self.config.retry_temperature
            text = self.review(movie_id, temp=temp)
            if text:
                return text
        return ""


def _too_similar(
    texts: Sequence[str], k: int, titles: Sequence[str], threshold: float
) -> list[str]:
    return [
        texts[j] for j in range(k) if text_similarity(texts[k], texts[j], strip=titles) >= threshold
    ]


def write_post(
    backend: LLMBackend | None,
    theme: str,
    candidates: Sequence[PostCandidate],
    *,
    n: int = 5,
    language: str = "en",
    config: PostConfig | None = None,
) -> PostDraft:
    """Write a validated post about ``theme`` from ``candidates``; never raises for model errors.

    Args:
        backend: The language model; None gives a draft without a post ("no model").
        theme: The user's theme (untrusted: quoted, bounded).
        candidates: Grounded candidates, best first; the first ``max_model_candidates`` are shown.
        n: Movies in the post (at most the number of candidates).
        language: ``en`` or ``ko``: caption and one-liners are written in it.
        config: Retry and distinctness policy.

    Returns:
        A :class:`PostDraft`: ``post`` is a :class:`Post` that passed every check, or None with
        ``problems`` saying why.
    """
    start = time.perf_counter()
    config = config or PostConfig()
    language = language_or_default(language)
    theme = sanitize_user_text(theme, 200)
    shown = list({c.movie.movie_id: c for c in candidates}.values())[: config.max_model_candidates]
    model = backend.model if backend is not None else "none"

    def failed(problems: Sequence[str], **counts: Any) -> PostDraft:
        return PostDraft(
            None, tuple(problems), model, elapsed_s=time.perf_counter() - start, **counts
        )

    if not theme:
        return failed(["the theme was empty"])
    if not shown:
        return failed(["no catalog movie fits the theme"])
    if backend is None:
        return failed(["no language model is configured (CINEREC_LLM_BACKEND=none)"])
    n = max(1, min(n, len(shown)))
    writer = _Writer(backend, theme, shown, language, config)
    try:
        with guarded(backend, "post"):
            planned = writer.plan(n)
            if planned is None:
                return failed(
                    writer.problems or ["the model gave no usable plan"],
                    attempts=writer.attempts,
                    raw_outputs=tuple(writer.raw),
                )
            return _finish(writer, *planned, n=n, start=start)
    except LLMError as exc:  # a failure the writer did not absorb, or a broken contract: report
        # it, never publish
        counts = {
            "attempts": writer.attempts,
            "review_calls": writer.review_calls,
            "raw_outputs": tuple(writer.raw),
        }
        return failed([*writer.problems, str(exc)], **counts)


def _finish(writer: _Writer, caption: str, ids: list[int], *, n: int, start: float) -> PostDraft:
    """Fill missing picks, write and de-duplicate the one-liners, and validate the post."""
    config, language = writer.config, writer.language
    notes = writer.notes
    unused = [i for i in writer.by_id if i not in ids]
    ids = [*ids, *unused[: max(n - len(ids), 0)]]  # duplicates or bad ids left a slot
    texts = [writer.first_review(movie_id) for movie_id in ids]
    titles = [writer.by_id[i].movie.title for i in ids]
    before = mean_pairwise_similarity([t for t in texts if t], strip=titles)
    rewritten = synopsis = 0
    for k in range(len(texts)):
        rounds = 0
        while texts[k] and rounds < config.max_rewrites:
            alike = _too_similar(texts, k, titles, config.similarity_threshold)
            if not alike:
                break
            rounds += 1
            banned = shared_words(texts[k], alike, strip=titles)
            new = writer.review(ids[k], [texts[k], *alike], banned, temp=config.retry_temperature)
            if new:
                writer.repairs.append(f"review of {ids[k]} rewritten: {texts[k]!r} -> {new!r}")
                texts[k], rewritten = new, rewritten + 1
        if not texts[k] or _too_similar(texts, k, titles, config.similarity_threshold):
            line = synopsis_review(writer.by_id[ids[k]].movie, language)
            why = "still too similar" if texts[k] else "no usable model line"
            writer.repairs.append(f"review of {ids[k]} ({why}): {texts[k]!r} -> synopsis {line!r}")
            texts[k] = line
            synopsis += 1
            notes.append(f"the review of {ids[k]} was taken from the synopsis")
    counts: dict[str, Any] = {
        "model": writer.backend.model,
        "attempts": writer.attempts,
        "review_calls": writer.review_calls,
        "rewritten": rewritten,
        "synopsis_reviews": synopsis,
        "template_lines": writer.template_lines,
        "similarity_before": before,
        "similarity_after": mean_pairwise_similarity(texts, strip=titles),
        "notes": tuple(notes),
        "raw_outputs": tuple(writer.raw),
        "repairs": tuple(writer.repairs),
    }
    try:
        post = Post(
            caption=caption,
            movies=[
                PostMovie(id=i, title=writer.by_id[i].movie.title, one_line_review=t)
                for i, t in zip(ids, texts, strict=True)
            ],
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        problems = (*writer.problems, f"the post did not validate: {exc}")
        return PostDraft(None, problems, elapsed_s=time.perf_counter() - start, **counts)
    return PostDraft(post, tuple(writer.problems), elapsed_s=time.perf_counter() - start, **counts)
