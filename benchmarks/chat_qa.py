"""Chat questions people ask, answered by the real chat and scored against the database.

Questions are generated from the catalog by templates, in English and Korean, of five kinds:

- ``fact``: the director, year, cast or genre of a movie that has the fact;
- ``list``: movies by a director with at least two catalog movies, by an actor, or of a decade
  and genre;
- ``follow_up``: two turns where the second needs the first ("Who directed X?" then "And what
  else did he direct?"; "Who starred in X?" then "What else was he in?"); only turn 2 is scored;
- ``compare``: which of two movies is older, or has more ratings;
- ``unanswerable``: the director of a movie whose director the catalog lacks, a movie the
  catalog does not have, and the future.

Gold answers come from the database. Every answer is scored twice: on what is shown, and on the
model's RAW text (``ChatAnswer.raw_text``; an answer the model did not write, a deterministic
"the catalog does not know", counts as its shown text). The checker
(:mod:`benchmarks.checks.chat_claims`) imports nothing from the product's grounding. Fallbacks
(the template shown because the model's phrasing failed its checks) are counted beside the rates;
every rate has a 95% Wilson interval; latency is recorded per answer.

A comparison's phrasing may start with the winner's title forced by the grammar
(``--no-lead``: not), and a list's phrasing must name every listed citation
(``--no-cited-lists``: not); the share of the raw text so forced is reported beside the rates.
``--replay TAG`` asks the same questions but answers each model call with the raw reply stored
in ``chat_qa_TAG.rows.jsonl`` (no model): today's checks measured on an earlier run's words.

    python benchmarks/chat_qa.py --model qwen2.5-coder-0.5b --threads 1 --per-cell 30
    python benchmarks/chat_qa.py --model qwen2.5-coder-1.5b --threads 1 --per-cell 10 --tag 1.5b
    python benchmarks/chat_qa.py --replay 0.5b_300q --per-cell 30 --tag replay_300q
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.checks.chat_claims import (
    CatalogMovie,
    ClaimCatalog,
    comparison_problems,
    false_claims,
    mentions,
    says_unknown,
)
from benchmarks.provenance import provenance
from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.llm.backends.base import Completion, Message, estimate_tokens
from cinerec.reviews.metrics import wilson_interval
from cinerec.services import users
from cinerec.services.chat import ChatServiceConfig, chat_turn
from cinerec.services.ingest import ensure_ready
from cinerec.services.platform import Platform
from cinerec.services.retrieval import load_catalog_movies
from cinerec.text.lang import GENRES_KO
from cinerec.text.title_index import title_keys

KINDS = ("fact", "list", "follow_up", "compare", "unanswerable")
LANGUAGES = ("en", "ko")
RESULTS = Path(__file__).parent / "results"
NOT_IN_CATALOG = (
    ("Oppenheimer", 2023), ("Barbie", 2023), ("Dune: Part Two", 2024), ("Parasite", 2019),
    ("Joker", 2019), ("Tenet", 2020), ("Everything Everywhere All at Once", 2022),
    ("Top Gun: Maverick", 2022), ("The Batman", 2022), ("Killers of the Flower Moon", 2023),
    ("Zorblax Returns", 2015), ("The Velvet Lighthouse", 2011), ("Midnight Sushi Run", 2009),
    ("Decision to Leave", 2022), ("Past Lives", 2023),
)  # fmt: skip


@dataclass
class Question:
    """One scored question (turn 2 of a follow-up), its gold answer and the result."""

    qid: int
    kind: str
    language: str
    turns: list[str]
    gold: dict
    answers: list[str] = field(default_factory=list)
    raw: str = ""
    shown: str = ""
    flags: list[str] = field(default_factory=list)
    answer_kind: str = ""
    fallback: bool = False
    model_written: bool = False
    seconds: float = 0.0
    correct_shown: bool = False
    correct_raw: bool = False
    false_shown: list[str] = field(default_factory=list)
    false_raw: list[str] = field(default_factory=list)
    forced_chars: int = 0  # characters of the raw text the grammar forced (a comparison's lead)


@dataclass
class ReplayBackend:
    """A backend that answers with stored replies (``replies``, set before each turn), so that
    the checks of today can be measured on an earlier run's words without a model."""

    replies: list[str] = field(default_factory=list)
    name: str = "replay"
    model: str = "replay"
    supports_schema: bool = False
    can_stream: bool = False
    caches_prefix: bool = False

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def complete(self, messages: list[Message], **_: object) -> Completion:
        return Completion(text=self.replies.pop(0) if self.replies else "", model=self.model)

    def stream(self, messages: list[Message], **_: object):  # type: ignore[no-untyped-def]
        yield self.complete(messages).text


def _directors(movie: Movie) -> list[str]:
    return [d.strip() for d in (movie.director or "").split(",") if d.strip()]


def _unique_titles(movies: Sequence[Movie]) -> list[Movie]:
    counts: Counter[str] = Counter()
    for movie in movies:
        counts.update(set(title_keys(movie.title)))
    return [m for m in movies if all(counts[k] == 1 for k in title_keys(m.title))]


def _name(movie: Movie) -> str:
    """The title as a person would type it: ``Godfather, The`` -> ``The Godfather``."""
    title = movie.title
    for article in ("The", "A", "An"):
        if title.endswith(f", {article}"):
            return f"{article} {title[: -len(article) - 2]}"
    return title


def build_questions(movies: list[Movie], popularity: dict[int, int], per_cell: int, seed: int):
    """``per_cell`` questions per kind and language (see the module docstring)."""
    rng = random.Random(seed)
    popular = sorted(movies, key=lambda m: -popularity.get(m.movie_id, 0))[:1500]
    unique = _unique_titles(movies)
    unique_ids = {m.movie_id for m in unique}
    pool = [m for m in popular if m.movie_id in unique_ids]
    by_director: dict[str, list[Movie]] = defaultdict(list)
    by_actor: dict[str, list[Movie]] = defaultdict(list)
    for m in movies:
        for d in _directors(m):
            by_director[d].append(m)
        for a in m.cast:
            by_actor[a].append(m)
    questions: list[Question] = []

    def add(kind: str, language: str, turns: list[str], gold: dict) -> None:
        questions.append(Question(len(questions), kind, language, turns, gold))

    for language in LANGUAGES:
        ko = language == "ko"
        # fact
        full = [m for m in pool if m.director and m.cast and m.year and m.genres]
        for i, m in enumerate(rng.sample(full, per_cell)):
            field_ = ("director", "year", "cast", "genre")[i % 4]
            t, y = _name(m), m.year
            text = {
                ("director", False): f"Who directed {t} ({y})?",
                ("director", True): f"{t} ({y})의 감독은 누구인가요?",
                ("year", False): f"In what year was {t} released?",
                ("year", True): f"{t}은(는) 몇 년에 개봉했나요?",
                ("cast", False): f"Who starred in {t} ({y})?",
                ("cast", True): f"{t} ({y})에 출연한 배우는 누구인가요?",
                ("genre", False): f"What genre is {t} ({y})?",
                ("genre", True): f"{t} ({y})의 장르는 무엇인가요?",
            }[(field_, ko)]
            expected = {
                "director": _directors(m),
                "year": [str(m.year)],
                "cast": list(m.cast[:3]),
                "genre": [*m.genres, *(GENRES_KO.get(g, "") for g in m.genres)],
            }[field_]
            add("fact", language, [text], {"field": field_, "movie": m.movie_id, "any": expected})
        # list: director, actor, decade + genre (a third each)
        directors = sorted(d for d, ms in by_director.items() if len(ms) >= 2 and "," not in d)
        actors = sorted(a for a, ms in by_actor.items() if len(ms) >= 3)
        n_dir = per_cell // 3
        n_act = per_cell // 3
        for d in rng.sample(directors, n_dir):
            text = (
                f"Which movies did {d} direct?"
                if not ko
                else f"{d} 감독의 영화는 어떤 것이 있나요?"
            )
            ids = [m.movie_id for m in by_director[d]]
            add("list", language, [text], {"person": d, "ids": ids, "exclude": []})
        for a in rng.sample(actors, n_act):
            text = f"Which movies did {a} star in?" if not ko else f"{a}이(가) 출연한 영화는?"
            ids = [m.movie_id for m in by_actor[a]]
            add("list", language, [text], {"person": a, "ids": ids, "exclude": []})
        genres = ["Comedy", "Drama", "Horror", "Thriller", "Action", "Romance", "Sci-Fi",
                  "Animation", "Crime", "War", "Western", "Fantasy"]  # fmt: skip
        for _ in range(per_cell - n_dir - n_act):
            g, decade = rng.choice(genres), rng.choice([1960, 1970, 1980, 1990, 2000, 2010])
            ids = [
                m.movie_id
                for m in movies
                if g in m.genres and m.year and decade <= m.year < decade + 10
            ]
            short = str(decade)[2:]
            text = (
                f"{g} movies from the {short}s"
                if not ko
                else f"{short}년대 {GENRES_KO[g]} 영화 알려줘"
            )
            add("list", language, [text], {"person": None, "ids": ids, "exclude": []})
        # follow-up: director then "what else", or star then "what else"
        with_dir = [
            m for m in pool if len(_directors(m)) == 1 and len(by_director[_directors(m)[0]]) >= 2
        ]
        with_star = [m for m in pool if m.cast and len(by_actor[m.cast[0]]) >= 3]
        for i in range(per_cell):
            if i % 2 == 0:
                m = rng.choice(with_dir)
                d = _directors(m)[0]
                turns = (
                    [f"Who directed {_name(m)} ({m.year})?", "And what else did he direct?"]
                    if not ko
                    else [f"{_name(m)} ({m.year})의 감독은 누구인가요?", "그 감독의 다른 영화는?"]
                )
                ids = [x.movie_id for x in by_director[d] if x.movie_id != m.movie_id]
                add(
                    "follow_up", language, turns, {"person": d, "ids": ids, "exclude": [m.movie_id]}
                )
            else:
                m = rng.choice(with_star)
                a = m.cast[0]
                turns = (
                    [f"Who starred in {_name(m)} ({m.year})?", "What else was he in?"]
                    if not ko
                    else [
                        f"{_name(m)} ({m.year})에 출연한 배우는 누구인가요?",
                        "그 배우가 출연한 다른 영화는?",
                    ]
                )
                ids = [x.movie_id for x in by_actor[a] if x.movie_id != m.movie_id]
                add(
                    "follow_up", language, turns, {"person": a, "ids": ids, "exclude": [m.movie_id]}
                )
        # compare
        for i in range(per_cell):
            while True:
                a, b = rng.sample(pool[:800], 2)
                older = i % 2 == 0
                if older and a.year and b.year and a.year != b.year:
                    win = a if a.year < b.year else b
                    break
                pa, pb = popularity.get(a.movie_id, 0), popularity.get(b.movie_id, 0)
                if not older and pa != pb:
                    win = a if pa > pb else b
                    break
            ta, tb = f"{_name(a)} ({a.year})", f"{_name(b)} ({b.year})"
            if older:
                text = (
                    f"Which is older, {ta} or {tb}?"
                    if not ko
                    else f"{ta}와 {tb} 중 어느 영화가 더 오래됐나요?"
                )
            else:
                text = (
                    f"Which has more ratings, {ta} or {tb}?"
                    if not ko
                    else f"{ta}와 {tb} 중 평가 수가 더 많은 영화는?"
                )
            add(
                "compare",
                language,
                [text],
                {"pair": [a.movie_id, b.movie_id], "winner": win.movie_id},
            )
        # unanswerable: missing director (a third), not in the catalog (a third), future (rest)
        missing = [m for m in pool if not m.director and m.year]
        n_missing = per_cell // 3
        for m in rng.sample(missing, n_missing):
            text = (
                f"Who directed {_name(m)} ({m.year})?"
                if not ko
                else f"{_name(m)} ({m.year})의 감독은 누구인가요?"
            )
            add("unanswerable", language, [text], {"why": "missing_director", "movie": m.movie_id})
        for title, year in rng.sample(NOT_IN_CATALOG, per_cell // 3):
            text = (
                f"Who directed {title} ({year})?"
                if not ko
                else f"{title} ({year})의 감독은 누구인가요?"
            )
            add("unanswerable", language, [text], {"why": "not_in_catalog"})
        for d in rng.sample(directors, per_cell - n_missing - per_cell // 3):
            text = (
                f"What movie will {d} release next?"
                if not ko
                else f"{d} 감독의 차기작은 무엇인가요?"
            )
            add("unanswerable", language, [text], {"why": "future", "person": d})
    return questions


def _ids_named(catalog: ClaimCatalog, text: str) -> list[int]:
    ids, _ = catalog.named_movies(text)
    return ids


def is_correct(q: Question, text: str, catalog: ClaimCatalog) -> bool:
    """The rule for each kind (see the module docstring)."""
    g = q.gold
    if q.kind == "fact":
        if g["field"] == "year":
            return g["any"][0] in text
        return mentions(text, [x for x in g["any"] if x])
    if q.kind in ("list", "follow_up"):
        named = [i for i in _ids_named(catalog, text) if i not in g["exclude"]]
        gold = set(g["ids"])
        if not gold:
            return says_unknown(text) and not named
        hits = [i for i in named if i in gold]
        return len(hits) >= min(3, len(gold)) and all(i in gold for i in named)
    if q.kind == "compare":  # the winner named first, and no verdict or count the catalog denies
        named = [i for i in _ids_named(catalog, text) if i in g["pair"]]
        return bool(named) and named[0] == g["winner"] and not comparison_problems(catalog, text)
    # unanswerable: says so, and names no person it could have guessed
    people = catalog.people_in(text)
    asked = set(catalog.people_in(q.turns[-1]))
    return says_unknown(text) and not [p for p in people if p not in asked]


def _forced_chars(q: Question, by_id: dict[int, Movie], popularity: dict[int, int]) -> int:
    """Characters of a led or cited answer's raw text the grammar forced: a list's citations
    (``forced_citations``), a comparison's winner title,
    or, where the raw text starts with the draft's verdict clause up to the winner's count (the
    longer lead of "more ratings"), that clause; a follow-up list's "Besides X," / "X 외에"."""
    clauses = []
    if "winner" in q.gold:
        winner = by_id[q.gold["winner"]]
        count = popularity.get(winner.movie_id, 0)
        clauses = [
            f"{winner.display_title}의 평가 수가 더 많습니다: {count}개",
            f"{winner.display_title} has more ratings in the catalog: {count}",
            winner.display_title,
        ]
    for movie_id in q.gold.get("exclude", [])[:1]:
        title = by_id[movie_id].display_title
        clauses += [f"Besides {title},", f"{title} 외에"]
    lead = next((len(c) for c in clauses if q.raw.startswith(c)), 0)
    if "forced_citations" not in q.flags:
        return lead
    # a list's citations, whole ("Heat (1995) [#6]"): the grammar forces each once begun
    cited = {int(i) for i in re.findall(r"\[#(\d+)\]", q.raw)}
    refs = (f"{by_id[i].display_title} [#{i}]" for i in cited if i in by_id)
    return lead + sum(len(r) for r in refs if r in q.raw)


def _claim_catalog(movies: Sequence[Movie], popularity: dict[int, int]) -> ClaimCatalog:
    return ClaimCatalog(
        CatalogMovie(
            m.movie_id,
            m.title,
            m.year,
            tuple(_directors(m)),
            tuple(m.cast),
            popularity.get(m.movie_id, 0),
        )
        for m in movies
    )


def _score(q: Question, catalog: ClaimCatalog) -> None:
    asked = " ".join(q.turns[:-1] + q.answers[:-1] + [q.turns[-1]])
    q.correct_shown = is_correct(q, q.shown, catalog)
    q.correct_raw = is_correct(q, q.raw, catalog)
    q.false_shown = false_claims(catalog, q.shown, asked=asked)
    q.false_raw = false_claims(catalog, q.raw, asked=asked)


def _rate(flags: Sequence[bool]) -> dict:
    n, k = len(flags), sum(flags)
    if n == 0:
        return {"n": 0, "k": 0, "rate": None, "ci95": None}
    lo, hi = wilson_interval(k, n)
    return {"n": n, "k": k, "rate": round(k / n, 4), "ci95": [round(lo, 4), round(hi, 4)]}


def _pct(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)


def _forced_share(questions: Sequence[Question]) -> float | None:
    """Of the raw text of answers the model wrote under a forced lead, the share of characters
    the grammar forced (None when no answer was led)."""
    led = [q for q in questions if q.forced_chars]
    if not led:
        return None
    return round(sum(q.forced_chars for q in led) / max(1, sum(len(q.raw) for q in led)), 3)


def summarize(questions: Sequence[Question]) -> dict:
    cells: dict[str, dict] = {}
    for kind in (*KINDS, "all"):
        for language in (*LANGUAGES, "all"):
            qs = [
                q
                for q in questions
                if (kind == "all" or q.kind == kind)
                and (language == "all" or q.language == language)
            ]
            if not qs:
                continue
            cells[f"{kind}/{language}"] = {
                "correct_shown": _rate([q.correct_shown for q in qs]),
                "correct_raw": _rate([q.correct_raw for q in qs]),
                "false_shown": _rate([bool(q.false_shown) for q in qs]),
                "false_raw": _rate([bool(q.false_raw) for q in qs]),
                "fallbacks": sum(q.fallback for q in qs),
                "model_written": sum(q.model_written for q in qs),
                "forced_share": _forced_share(qs),
                "latency_p50_s": _pct([q.seconds for q in qs], 0.5),
                "latency_p95_s": _pct([q.seconds for q in qs], 0.95),
            }
    return cells


def write_markdown(path: Path, report: dict) -> None:
    prov = report["provenance"]
    lines = [
        f"# Chat QA benchmark ({report['model']}, {report['threads']} thread(s))",
        "",
        f"Command: `{prov['command']}`; commit {prov.get('git_sha')}; {prov.get('date_utc')}; "
        f"cores {prov.get('cpu_count')}.",
        "",
        "| kind/lang | n | correct shown [95% CI] | correct raw [95% CI] | false shown | false raw "
        "| fallbacks | model-written | forced share | p50 s | p95 s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def f(r: dict) -> str:
        return f"{r['k']}/{r['n']} = {r['rate']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"

    for cell, c in report["cells"].items():
        lines.append(
            f"| {cell} | {c['correct_shown']['n']} | {f(c['correct_shown'])} "
            f"| {f(c['correct_raw'])} | {f(c['false_shown'])} | {f(c['false_raw'])} "
            f"| {c['fallbacks']} | {c['model_written']} | {c.get('forced_share')} "
            f"| {c['latency_p50_s']} | {c['latency_p95_s']} |"
        )
    lines += ["", "## Misses (shown)", ""]
    for q in report["questions"]:
        if not q["correct_shown"] or q["false_shown"]:
            lines.append(
                f"- [{q['kind']}/{q['language']}] {' → '.join(q['turns'])}: "
                f"{q['shown'][:300]!r} {q['false_shown']}"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--per-cell", type=int, default=30, help="questions per kind and language")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, default=None, help="an ingested home (default: fresh)")
    parser.add_argument("--tag", default="", help="suffix of the result file names")
    parser.add_argument("--no-model", action="store_true", help="templates only (no model)")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help="comma-separated kinds to ask (default: all five); a rerun of one kind after a fix",
    )
    parser.add_argument(
        "--languages", default=",".join(LANGUAGES), help="comma-separated: en, ko or both"
    )
    parser.add_argument(
        "--max-questions",
        type=int,
        default=None,
        help="ask only the first N questions of the interleaved order (the same N each time)",
    )
    parser.add_argument(
        "--replay",
        default="",
        metavar="TAG",
        help="no model: answer with the raw replies stored in chat_qa_TAG.rows.jsonl",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows a cut-short run with the same tag stored and ask only the rest",
    )
    parser.add_argument(
        "--no-lead",
        action="store_true",
        help="comparisons without the grammar-forced lead (the winner's title)",
    )
    parser.add_argument(
        "--no-cited-lists",
        action="store_true",
        help="lists without the grammar that makes a phrasing name every listed citation",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the rows stored so far (a run cut short: any prefix is mixed)",
    )
    args = parser.parse_args(argv)
    stem = f"chat_qa{'_' + args.tag if args.tag else ''}"
    rows_path = RESULTS / f"{stem}.rows.jsonl"
    if args.report_only:
        rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
        report = json.loads((RESULTS / f"{stem}.meta.json").read_text(encoding="utf-8"))
        questions = [Question(**r) for r in rows]
        if args.home:  # re-score the stored answers with the current checker (rows too)
            platform = Platform(Settings(home=args.home, llm_backend="none"))
            catalog = _claim_catalog(*load_catalog_movies(platform))
            for q in questions:
                _score(q, catalog)
            rows_path.write_text(
                "".join(json.dumps(asdict(q), ensure_ascii=False) + "\n" for q in questions),
                encoding="utf-8",
            )
            report["rescored"] = provenance(
                sys.argv if argv is None else ["benchmarks/chat_qa.py", *argv]
            )
        _finish_report(report, questions, stem, partial=True)
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="cinerec-chat-qa-"))
    settings = Settings(
        home=home,
        llm_model=args.model,
        llm_threads=args.threads,
        llm_timeout_s=600,
        llm_backend="none" if args.no_model or args.replay else "llamacpp",
        recommender="als",
    )
    replay = ReplayBackend() if args.replay else None
    stored: dict[int, dict] = {}
    if args.replay:
        source = RESULTS / f"chat_qa_{args.replay}.rows.jsonl"
        for line in source.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            stored[row["qid"]] = row
    platform = Platform(settings, llm=replay) if replay else Platform(settings)
    ensure_ready(platform, progress=False)
    movies, popularity = load_catalog_movies(platform)
    catalog = _claim_catalog(movies, popularity)
    kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
    if not kinds <= set(KINDS):
        parser.error(f"--kinds: unknown kind(s) {sorted(kinds - set(KINDS))}; known: {KINDS}")
    languages = {x.strip() for x in args.languages.split(",") if x.strip()}
    questions = [
        q
        for q in build_questions(movies, popularity, args.per_cell, args.seed)
        if q.kind in kinds and q.language in languages and (not stored or q.qid in stored)
    ]
    # Interleave kinds and languages so that any prefix is mixed.
    order = sorted(questions, key=lambda q: (q.qid % args.per_cell, q.qid))
    if args.max_questions is not None:
        order = order[: args.max_questions]
        questions = [q for q in questions if q in order]
    _, user_id = users.save_profile(
        platform, token=None, profile=users.ProfileInput(name="Bench", language="en")
    )
    if platform.llm is not None and replay is None:
        platform.llm.load()  # type: ignore[attr-defined]
    config = ChatServiceConfig(
        background_upkeep=False,
        prefill=False,
        summarize_with_model=False,
        use_embeddings=False,
        lead_comparisons=not args.no_lead,
        cite_lists=not args.no_cited_lists,
    )
    by_id = {m.movie_id: m for m in movies}
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "model": "none" if args.no_model else f"replay of {args.replay}" if replay else args.model,
        "threads": args.threads,
        "per_cell": args.per_cell,
        "seed": args.seed,
        "provenance": provenance(sys.argv if argv is None else ["benchmarks/chat_qa.py", *argv]),
    }
    done: dict[int, Question] = {}
    if args.resume and rows_path.exists():  # keep the answered rows, ask the rest
        for line in rows_path.read_text(encoding="utf-8").splitlines():
            row = Question(**json.loads(line))
            done[row.qid] = row
        earlier = json.loads((RESULTS / f"{stem}.meta.json").read_text(encoding="utf-8"))
        meta = {**earlier, "resumed": [*earlier.get("resumed", []), meta["provenance"]]}
        questions = [done.get(q.qid, q) for q in questions]
    else:
        rows_path.write_text("", encoding="utf-8")
    (RESULTS / f"{stem}.meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    started = time.perf_counter()
    for n, q in enumerate(order, 1):
        if q.qid in done:
            continue
        conversation = None
        for i, turn in enumerate(q.turns):
            if replay is not None:  # the stored reply of this turn (earlier turns: as shown)
                row = stored[q.qid]
                last = i == len(q.turns) - 1
                replay.replies = [row["raw"] if last else row["answers"][i]]
            t = time.perf_counter()
            answer = chat_turn(
                platform, user_id=user_id, message=turn, conversation_id=conversation, config=config
            )
            conversation = answer.conversation_id
            q.answers.append(answer.text)
        q.seconds = time.perf_counter() - t
        q.shown = answer.text
        q.raw = answer.raw_text or answer.text
        q.flags = list(answer.flags)
        q.answer_kind = answer.kind
        q.fallback = answer.fallback
        q.model_written = bool(answer.raw_text) and not answer.fallback
        if {"forced_lead", "forced_citations"} & set(answer.flags):
            q.forced_chars = _forced_chars(q, by_id, popularity)
        _score(q, catalog)
        with rows_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(q), ensure_ascii=False) + "\n")
        mark = "ok " if q.correct_shown else "MISS"
        print(
            f"[{n}/{len(order)} {time.perf_counter() - started:.0f}s] {mark} {q.kind}/{q.language} "
            f"{q.turns[-1]!r} -> {q.shown[:140]!r} {q.flags} {q.false_shown}",
            flush=True,
        )
    meta["seconds"] = round(time.perf_counter() - started, 1)
    _finish_report(meta, questions, stem, partial=False)


def _finish_report(
    report: dict, questions: Sequence[Question], stem: str, *, partial: bool
) -> None:
    report = {
        **report,
        "answered": len(questions),
        "partial": partial,
        "cells": summarize(questions),
        "questions": [asdict(q) for q in questions],
    }
    (RESULTS / f"{stem}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    write_markdown(RESULTS / f"{stem}.md", report)
    print(json.dumps(report["cells"], indent=1))


if __name__ == "__main__":
    main()
