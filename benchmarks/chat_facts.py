"""Fact questions about the catalog, answered by the chat with retrieval and without, in one run.

Questions are built from catalog facts: for movies with a director, cast, year and genres whose
title is unambiguous in the catalog, one question each about the director, the release year,
the cast and the genre, in English and in Korean (8 per movie; ``--movies 40`` gives 320). Each
answer is checked by rule: the director's full name appears; the first year mentioned is the
release year; one of the top-3 cast appears; one of the genres (or its Korean name or a synonym)
appears.

With retrieval, each question is one turn of the real chat (:func:`cinerec.services.chat.start_turn`
and :func:`~cinerec.services.chat.run_turn`: hybrid retrieval, prompt, streamed and grounded
answer) in a fresh conversation. Without retrieval, the same model gets the closed-book prompt
(the same rules minus the facts) and answers from its own knowledge. All retrieval questions run
first, then all closed-book ones, so llama.cpp's prefix cache behaves as in a conversation.

Also measured: time to the first streamed token and to the first checked text (p50/p95), prompt
tokens (the model's tokenizer), grounding flags, and how many answers name a title that is not in
the catalog, by the independent detector (:mod:`benchmarks.checks.titles`) on the model's raw
answer (before grounding; closed-book answers are raw) and on the shown answer, with the
product's own detector beside it (it runs after grounding removed what it finds, so it is 0 by
construction). What counts as a failure: for accuracy, an answer the rule rejects; for *used as
written*, any grounding flag (a sentence removed, a citation added, an empty answer replaced, a
fallback); for titles, an answer with one.

    python benchmarks/chat_facts.py --model qwen2.5-coder-1.5b --threads 2 --movies 40
    python benchmarks/chat_facts.py --limit 16          # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.checks.titles import Reference, unknown_titles  # noqa: E402
from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.config import Settings  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.data.types import Movie  # noqa: E402
from cinerec.evaluation.bootstrap import paired_difference_ci  # noqa: E402
from cinerec.llm.chat.grounding import CITATION  # noqa: E402
from cinerec.llm.chat.prompt import ChatContext, ChatMemory, build_chat_prompt, token_counter  # noqa: E402
from cinerec.llm.grounding import find_unknown_titles  # noqa: E402
from cinerec.llm.persona import UserProfile  # noqa: E402
from cinerec.reviews.metrics import wilson_interval  # noqa: E402
from cinerec.services import users  # noqa: E402
from cinerec.services.chat import ChatServiceConfig, run_turn, start_turn  # noqa: E402
from cinerec.services.ingest import ensure_ready  # noqa: E402
from cinerec.services.platform import Platform  # noqa: E402
from cinerec.services.retrieval import load_catalog_movies  # noqa: E402
from cinerec.text.bm25 import fold  # noqa: E402
from cinerec.text.lang import GENRES_KO  # noqa: E402
from cinerec.text.title_index import title_keys  # noqa: E402

KINDS = ("director", "year", "cast", "genre")
LANGUAGES = ("en", "ko")
TEMPLATES = {
    ("director", "en"): "Who directed {title} ({year})?",
    ("director", "ko"): "{title} ({year})의 감독은 누구인가요?",
    ("year", "en"): "In what year was {title} released?",
    ("year", "ko"): "{title}은(는) 몇 년에 개봉했나요?",
    ("cast", "en"): "Who starred in {title} ({year})?",
    ("cast", "ko"): "{title} ({year})에 출연한 배우는 누구인가요?",
    ("genre", "en"): "What genre is {title} ({year})?",
    ("genre", "ko"): "{title} ({year})의 장르는 무엇인가요?",
}
GENRE_SYNONYMS = {
    "Sci-Fi": ("science fiction", "sci fi", "scifi", "sf", "공상과학", "과학"),
    "Children": ("family", "kids", "children", "어린이", "아동"),
    "Film-Noir": ("noir", "누아르", "느와르"),
    "Comedy": ("comedic", "comedies"),
    "Romance": ("romantic", "로맨틱"),
    "Animation": ("animated", "애니"),
    "Documentary": ("documentaries", "다큐"),
    "Musical": ("musicals",),
    "Thriller": ("thrillers",),
}
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


@dataclass(frozen=True)
class Question:
    """One generated question with what a correct answer must contain."""

    qid: int
    movie_id: int
    kind: str
    language: str
    text: str
    expected: tuple[str, ...]


_SCRIPT_EDGE = re.compile(
    r"(?<=[A-Za-z0-9\u00c0-\u024f])(?=[\uac00-\ud7a3])"
    r"|(?<=[\uac00-\ud7a3])(?=[A-Za-z0-9\u00c0-\u024f])"
)


def norm(text: str) -> str:
    """Folded words joined by single spaces (accents, case and punctuation ignored; Korean
    particles split from Latin names: ``Alda입니다`` -> ``alda 입니다``)."""
    text = _SCRIPT_EDGE.sub(" ", fold(text)).replace("'", "").replace("’", "")
    return " ".join(re.findall(r"[^\W_]+", text))


def is_correct(question: Question, answer: str) -> bool:
    """Rule check of an answer (see the module docstring)."""
    answer = CITATION.sub(" ", answer)  # "[#2083]" is an id, not a year
    if question.kind == "year":
        years = _YEAR.findall(answer)
        return bool(years) and years[0] == question.expected[0]
    text = f" {norm(answer)} "
    return any(f" {norm(e)} " in text for e in question.expected if norm(e))


def eligible(movies: Sequence[Movie]) -> list[Movie]:
    """Movies with every fact asked about and a title no other catalog movie shares."""
    counts: Counter[str] = Counter()
    for movie in movies:
        counts.update(set(title_keys(movie.title)))
    return [
        m
        for m in movies
        if m.director
        and m.cast
        and m.year
        and m.genres
        and m.genres != ("(no genres listed)",)
        and all(counts[k] == 1 for k in title_keys(m.title))
    ]


def build_questions(movies: Sequence[Movie], n_movies: int, seed: int) -> list[Question]:
    """``n_movies`` sampled movies x 4 kinds x 2 languages, interleaved so any prefix is mixed."""
    rng = random.Random(seed)
    chosen = rng.sample(list(eligible(movies)), n_movies)
    questions: list[Question] = []
    for movie in chosen:
        for kind in KINDS:
            for language in LANGUAGES:
                if kind == "director":
                    expected = tuple(n.strip() for n in (movie.director or "").split(","))
                elif kind == "year":
                    expected = (str(movie.year),)
                elif kind == "cast":
                    expected = tuple(movie.cast[:3])
                else:
                    expected = tuple(
                        name
                        for g in movie.genres
                        for name in (g, GENRES_KO.get(g, g), *GENRE_SYNONYMS.get(g, ()))
                    )
                text = TEMPLATES[(kind, language)].format(title=movie.title, year=movie.year)
                questions.append(
                    Question(len(questions), movie.movie_id, kind, language, text, expected)
                )
    # Round-robin over (kind, language) so that --limit keeps the mix.
    order = sorted(questions, key=lambda q: (q.qid // 8, q.qid % 8))
    groups = [[q for q in order if (q.kind, q.language) == key] for key in TEMPLATES]
    mixed = [q for batch in zip(*groups, strict=False) for q in batch]
    return mixed


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values, dtype=float)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "mean": round(float(arr.mean()), 3),
        "max": round(float(arr.max()), 3),
        "n": len(values),
    }


def _accuracy(flags: Sequence[bool]) -> dict[str, float]:
    n, k = len(flags), int(sum(flags))
    low, high = wilson_interval(k, n)
    return {
        "accuracy": round(k / n, 4) if n else 0.0,
        "low": round(low, 4),
        "high": round(high, 4),
        "n": n,
    }


def run_retrieval(
    platform: Platform, user_id: int, questions: Sequence[Question], log: Callable[[str], None]
) -> list[dict]:
    """Each question as one turn of the real chat, in a fresh conversation."""
    config = ChatServiceConfig(background_upkeep=False, prefill=False, summarize_with_model=False)
    rows = []
    for k, q in enumerate(questions):
        start = time.perf_counter()
        state = start_turn(platform, user_id=user_id, message=q.text, config=config)
        done: dict = {}
        for event in run_turn(platform, state):
            if event.kind == "done":
                done = event.data
        raw = state.result.raw_text if state.result is not None else None
        rows.append(
            {
                "qid": q.qid,
                "answer": done["answer"],
                "correct": is_correct(q, done["answer"]),
                "raw_answer": raw,
                "raw_correct": None if raw is None else is_correct(q, raw),
                "retrieved_target": q.movie_id in done["retrieved_ids"],
                "flags": done["flags"],
                "prompt_tokens": done["prompt_tokens"],
                "first_token_s": done["timings"].get("first_token"),
                "first_text_s": done["timings"].get("first_text"),
                "total_s": time.perf_counter() - start,
            }
        )
        log(
            f"[retrieval {k + 1}/{len(questions)}] {q.text} -> {done['answer'][:90]!r} "
            f"{'OK' if rows[-1]['correct'] else 'x'} ttft={rows[-1]['first_token_s']}"
        )
    return rows


def run_closed_book(
    platform: Platform, questions: Sequence[Question], log: Callable[[str], None]
) -> list[dict]:
    """The same model and rules without facts: what it knows by itself."""
    backend = platform.llm
    assert backend is not None
    count = token_counter(backend)
    context = ChatContext(UserProfile("Bench"), persona="", watched=())
    rows = []
    for k, q in enumerate(questions):
        prompt = build_chat_prompt(
            context,
            ChatMemory(),
            [],
            q.text,
            language=q.language,
            count_tokens=count,
            closed_book=True,
        )
        start = time.perf_counter()
        first = None
        parts = []
        for piece in backend.stream(prompt.messages, max_tokens=200, temperature=0.0):
            if first is None:
                first = time.perf_counter() - start
            parts.append(piece)
        answer = "".join(parts).strip()
        rows.append(
            {
                "qid": q.qid,
                "answer": answer,
                "correct": is_correct(q, answer),
                "prompt_tokens": prompt.prompt_tokens,
                "first_token_s": first,
                "total_s": time.perf_counter() - start,
            }
        )
        log(
            f"[closed {k + 1}/{len(questions)}] {q.text} -> {answer[:90]!r} "
            f"{'OK' if rows[-1]['correct'] else 'x'}"
        )
    return rows


def _count(flags: Sequence[bool]) -> dict[str, Any]:
    if not flags:
        return {"count": 0, "n": 0, "low": None, "high": None}
    low, high = wilson_interval(sum(flags), len(flags))
    return {"count": int(sum(flags)), "n": len(flags), "low": round(low, 4),
            "high": round(high, 4)}  # fmt: skip


def title_checks(rag: list[dict], closed: list[dict], ref: Reference) -> dict[str, Any]:
    """The independent detector on the shown, raw and closed-book answers, and how many
    retrieval answers were used as written (no grounding flag)."""
    raw = [r["raw_answer"] for r in rag if r.get("raw_answer") is not None]
    return {
        "retrieval_shown": _count([bool(unknown_titles(r["answer"], ref)) for r in rag]),
        "retrieval_raw": _count([bool(unknown_titles(t, ref)) for t in raw]),
        "no_retrieval_raw": _count([bool(unknown_titles(r["answer"], ref)) for r in closed]),
        "flagged_phrases": sorted(
            {t for r in [*rag, *closed] for t in unknown_titles(r["answer"], ref)}
            | {t for text in raw for t in unknown_titles(text, ref)}
        )[:40],
        "retrieval_used_as_written": _count([not r["flags"] for r in rag]),
        "retrieval_raw_accuracy": _accuracy(
            [r["raw_correct"] for r in rag if r.get("raw_correct") is not None]
        )
        if raw
        else None,
    }


def summarize(
    questions: Sequence[Question],
    rag: list[dict],
    closed: list[dict],
    catalog: Sequence[Movie],
    ref: Reference,
) -> dict:
    """Accuracies with 95% intervals, the paired lift, latency, tokens and grounding counts."""
    titles = [m.title for m in catalog]
    people = sorted({p for m in catalog for p in (m.director or "", *m.cast) if p})
    genres = sorted({g for m in catalog for g in m.genres} | set(GENRES_KO.values()))
    allowed = [*people, *genres]
    non_catalog_rag = sum(
        bool(find_unknown_titles(r["answer"], titles, allowed=allowed)) for r in rag
    )
    non_catalog_closed = sum(
        bool(find_unknown_titles(r["answer"], titles, allowed=allowed)) for r in closed
    )
    by_qid = {q.qid: q for q in questions}
    result: dict = {
        "accuracy": {
            "retrieval": _accuracy([r["correct"] for r in rag]),
            "no_retrieval": _accuracy([r["correct"] for r in closed]),
        },
        "by_kind": {},
        "by_language": {},
    }
    a = np.array([r["correct"] for r in rag], dtype=float)
    b = np.array([r["correct"] for r in closed], dtype=float)
    if len(a) == len(b) and len(a):
        lift = paired_difference_ci(a, b, resamples=2000, seed=0)
        result["accuracy"]["lift"] = {
            "mean": round(lift.mean, 4),
            "low": round(lift.low, 4),
            "high": round(lift.high, 4),
        }
    for key, values in (("by_kind", KINDS), ("by_language", LANGUAGES)):
        field = "kind" if key == "by_kind" else "language"
        for value in values:
            result[key][value] = {
                "retrieval": _accuracy(
                    [r["correct"] for r in rag if getattr(by_qid[r["qid"]], field) == value]
                ),
                "no_retrieval": _accuracy(
                    [r["correct"] for r in closed if getattr(by_qid[r["qid"]], field) == value]
                ),
            }
    flags = Counter(f for r in rag for f in r["flags"])
    result["retrieval_recall"] = round(float(np.mean([r["retrieved_target"] for r in rag])), 4)
    result["first_token_s"] = _percentiles([r["first_token_s"] for r in rag if r["first_token_s"]])
    # Text is shown sentence by sentence once checked; a one-sentence answer when it ends.
    result["first_text_s"] = _percentiles([r["first_text_s"] or r["total_s"] for r in rag])
    result["turn_total_s"] = _percentiles([r["total_s"] for r in rag])
    result["prompt_tokens"] = _percentiles([r["prompt_tokens"] for r in rag])
    result["closed_book_first_token_s"] = _percentiles(
        [r["first_token_s"] for r in closed if r["first_token_s"]]
    )
    result["grounding_flags"] = dict(flags)
    result["fallback_answers"] = flags.get("fallback", 0)
    result["product_detector_non_catalog_titles"] = {
        "retrieval_grounded": non_catalog_rag,
        "no_retrieval_raw": non_catalog_closed,
    }
    result["independent_non_catalog_titles"] = title_checks(rag, closed, ref)
    return result


def write_markdown(path: Path, report: dict) -> None:
    acc = report["summary"]["accuracy"]
    s = report["summary"]
    ind = s["independent_non_catalog_titles"]
    product = s.get(
        "product_detector_non_catalog_titles", s.get("answers_naming_non_catalog_titles")
    )
    header = (
        markdown_header(report["provenance"])
        if "provenance" in report
        else f"Recorded before provenance; command: `{report['command']}`"
    )

    def _text(x: dict) -> str:
        return f"{x['count']}/{x['n']} [{x['low']:.3f}, {x['high']:.3f}]"

    def fmt(x: dict) -> str:
        return f"{x['accuracy']:.3f} [{x['low']:.3f}, {x['high']:.3f}] (n={x['n']})"

    lines = [
        "# Chat fact questions: retrieval vs no retrieval",
        "",
        f"Model `{report['config']['model']}`, {report['config']['threads']} thread(s), "
        f"{report['config']['n_questions']} questions (of {report['config']['n_movies']} movies "
        "x 4 kinds x 2 languages), seed {seed}. 95% Wilson intervals; the lift is a paired "
        "bootstrap interval.".format(seed=report["config"]["seed"]),
        "",
        "| | accuracy |",
        "|---|---|",
        f"| with retrieval (the chat) | {fmt(acc['retrieval'])} |",
        f"| without retrieval (closed book) | {fmt(acc['no_retrieval'])} |",
    ]
    if "lift" in acc:
        lift = acc["lift"]
        lines.append(f"| lift | {lift['mean']:+.3f} [{lift['low']:+.3f}, {lift['high']:+.3f}] |")
    lines += ["", "| kind / language | with retrieval | without |", "|---|---|---|"]
    for key in ("by_kind", "by_language"):
        for name, v in s[key].items():
            lines.append(f"| {name} | {fmt(v['retrieval'])} | {fmt(v['no_retrieval'])} |")
    lines += [
        "",
        f"- target movie among the retrieved facts: {s['retrieval_recall']:.3f}",
        f"- time to first token (with retrieval): p50 {s['first_token_s'].get('p50')} s, "
        f"p95 {s['first_token_s'].get('p95')} s; to first checked text: p50 "
        f"{s['first_text_s'].get('p50')} s, p95 {s['first_text_s'].get('p95')} s",
        f"- prompt tokens (with retrieval): p50 {s['prompt_tokens'].get('p50')}, "
        f"p95 {s['prompt_tokens'].get('p95')}, max {s['prompt_tokens'].get('max')}",
        f"- grounding flags: {s['grounding_flags']}; fallback answers: {s['fallback_answers']}",
        f"- retrieval answers used as written (no grounding flag; a flag is a failure): "
        f"{_text(ind['retrieval_used_as_written'])}",
        "- answers naming a non-catalog title, independent detector: shown (retrieval) "
        f"{_text(ind['retrieval_shown'])}; raw (retrieval, before grounding) "
        + (_text(ind["retrieval_raw"]) if ind["retrieval_raw"]["n"] else "not stored (rerun)")
        + f"; closed book (raw) {_text(ind['no_retrieval_raw'])}; flagged phrases: "
        f"{ind['flagged_phrases']}",
        "- accuracy on the raw retrieval answers (before grounding): "
        + (
            fmt(ind["retrieval_raw_accuracy"])
            if ind.get("retrieval_raw_accuracy")
            else "not stored"
        ),
        "- the product's detector on the same answers (after its own grounding, so 0 by "
        f"construction on the shown ones): {product}",
        "",
        header,
        "",
        "Latency depends on the machine and on other load; re-measure on a quiet machine with "
        "the command above.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _public_argv(argv: Sequence[str]) -> list[str]:
    """The command line without machine paths (the home directory is the reader's own)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            out.append("<home>")
            skip = False
        elif arg == "--home":
            out.append(arg)
            skip = True
        elif arg.startswith("--home="):
            out.append("--home=<home>")
        else:
            out.append(arg)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--movies", type=int, default=40, help="movies sampled (8 questions each)")
    parser.add_argument("--limit", type=int, default=None, help="run only the first N questions")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--home", type=Path, default=None, help="an ingested home (default: a fresh one)"
    )
    parser.add_argument(
        "--embeddings", action="store_true", help="build and use the embedding index"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/chat_facts"))
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--rescore", action="store_true", help="re-check the answers saved in --out, no model"
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if args.rescore:
        rescore(args.out)
        return

    home = args.home or Path(tempfile.mkdtemp(prefix="cinerec-chat-bench-"))
    settings = Settings(
        home=home, llm_model=args.model, llm_threads=args.threads, llm_timeout_s=600
    )
    platform = Platform(settings)
    ensure_ready(platform, progress=False)
    if args.embeddings:
        from cinerec.services.similar import catalog_index

        catalog_index(platform)
    catalog, _ = load_catalog_movies(platform)
    data_dir = resolve_data_dir()
    questions = build_questions(catalog, args.movies, args.seed)
    if args.limit:
        questions = questions[: args.limit]
    log = (
        (lambda _: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    )

    token, user_id = users.save_profile(
        platform, token=None, profile=users.ProfileInput(name="Bench", language="en")
    )
    assert platform.llm is not None, "the benchmark needs a language model"
    platform.llm.load()  # type: ignore[attr-defined]
    started = time.perf_counter()
    rag = run_retrieval(platform, user_id, questions, log)
    closed = run_closed_book(platform, questions, log)
    elapsed = time.perf_counter() - started

    report = {
        "config": {
            "model": args.model,
            "threads": args.threads,
            "n_movies": args.movies,
            "n_questions": len(questions),
            "seed": args.seed,
            "embeddings": args.embeddings,
            "eligible_movies": len(eligible(catalog)),
        },
        "command": "python " + " ".join(shlex.quote(a) for a in _public_argv(sys.argv)),
        "provenance": provenance(_public_argv(sys.argv)),
        "elapsed_s": round(elapsed, 1),
        "summary": summarize(questions, rag, closed, catalog, Reference.from_data_dir(data_dir)),
        "questions": [
            {**asdict(q), "retrieval": r, "no_retrieval": c}
            for q, r, c in zip(questions, rag, closed, strict=True)
        ],
    }
    save(report, args.out)


def save(report: dict, out: Path) -> None:
    """Write ``<out>.json`` (config, summary, every question) and ``<out>.md``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    write_markdown(out.with_suffix(".md"), report)
    print(json.dumps(report["summary"], ensure_ascii=False, indent=1))


def rescore(out: Path) -> None:
    """Check the saved answers again and rewrite the summary (after a checker change); the
    catalog comes from the data files, so no home is needed."""
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    fields = {"qid", "movie_id", "kind", "language", "text", "expected"}
    questions = [
        Question(**{k: tuple(v) if k == "expected" else v for k, v in q.items() if k in fields})
        for q in report["questions"]
    ]
    rag = [q["retrieval"] for q in report["questions"]]
    closed = [q["no_retrieval"] for q in report["questions"]]
    for question, r, c in zip(questions, rag, closed, strict=True):
        r["correct"] = is_correct(question, r["answer"])
        c["correct"] = is_correct(question, c["answer"])
    data_dir = resolve_data_dir()
    report["summary"] = summarize(
        questions, rag, closed, load_catalog(data_dir), Reference.from_data_dir(data_dir)
    )
    report["rescored"] = provenance()
    save(report, out)


if __name__ == "__main__":
    main()
