"""Words that are true: real-model reasons and personas scored by the fact checker.

``generate`` writes pages as the platform does (a persona, then a reason for each of ``--cards``
cards, evidence-first prompts) with the real embedded model and stores, per text, the model's raw
reply and everything needed to check it (the viewer's profile, ticked movie ids, the card, the
page). Pages alternate English/Korean and red-team/ordinary taste inputs (red-team inputs from
``tests/llm/redteam.py``, ordinary ones from ``benchmarks/llm_requests.py``); genders cycle
unspecified, female, male, other. Rows are appended as they are made, so a run can be stopped
and resumed.

``report`` scores every stored text, RAW (the model's reply before any repair) and SHOWN (what
the product's repair makes of it, recomputed from the raw reply with the current code), with the
fact checker (:mod:`cinerec.llm.facts`) against the whole catalog; adds the one-line reviews
of stored post runs (``--posts``, by default ``benchmarks/results/posts_rerun10.json``; raw
replies); scores the
hand-labelled gold set (``benchmarks/data/words_gold.jsonl``) for the checker's precision and
recall; and measures page overlap and the specific-fact rate (defined in :func:`page_overlap`
and :func:`cites_specific_fact`) beside the same measures on the stored reasons of the earlier
request runs (``benchmarks/results/llm_requests*.jsonl``).

    nice -n 10 python benchmarks/words.py generate --pages 60 --threads 1
    python benchmarks/words.py report
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*, tests.llm.redteam

from benchmarks.checks.keywords import own_keyword  # noqa: E402
from benchmarks.llm_requests import (  # noqa: E402
    ORDINARY,
    raw_prose,
    request_inputs,
    request_pools,
)
from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.data.types import Movie  # noqa: E402
from cinerec.llm.facts import FactCatalog, check_text  # noqa: E402
from cinerec.reviews.metrics import wilson_interval  # noqa: E402
from tests.llm.redteam import REDTEAM  # noqa: E402

RESULTS = Path("benchmarks/results")
GOLD = Path("benchmarks/data/words_gold.jsonl")
# every page's viewer's age: a persona may say it (the v19 sample's reader, not told, read it false)
AGE = 30
DEFAULT_POSTS = RESULTS / "posts_rerun10.json"
GENDERS = ("unspecified", "female", "male", "other")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _plans(n: int, seed: int) -> list[tuple[str, str, str]]:
    """``(kind, language, taste)``: English and Korean pages in turn, red-team and ordinary
    inputs in turn within each language."""
    rng = np.random.default_rng(seed)
    pools: dict[tuple[str, bool], list[tuple[str, str]]] = {}
    for kind, text in REDTEAM:
        pools.setdefault(("ko" if HANGUL.search(text) else "en", True), []).append((kind, text))
    for language, text in ORDINARY:
        pools.setdefault((language, False), []).append(("ordinary", text))
    cycles = {k: itertools.cycle([v[i] for i in rng.permutation(len(v))]) for k, v in pools.items()}
    plans = []
    for p in range(n):
        language = "en" if p % 2 == 0 else "ko"
        red = (p // 2) % 2 == 0
        kind, taste = next(cycles[(language, red)])
        plans.append((kind, language, taste))
    return plans


def generate(args: argparse.Namespace) -> None:
    """Write ``--pages`` pages with the real model; rows go to ``words.jsonl`` as made."""
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from cinerec.llm.persona import UserProfile, write_persona
    from cinerec.llm.reasons import write_reasons

    catalog, popular, histories, backend = request_inputs(args.model, args.threads)
    rng = np.random.default_rng(args.seed)
    rows_path = _rows_path(args.tag)
    done = {r["page"] for r in _rows(rows_path)}
    with rows_path.open("a", encoding="utf-8") as sink:
        for p, (kind, language, taste) in enumerate(_plans(args.pages, args.seed)):
            history = histories[int(rng.integers(len(histories)))]
            seen = {m.movie_id for m in history}
            cards = [catalog[int(i)] for i in rng.permutation(popular) if int(i) not in seen]
            cards = cards[: args.cards]
            if p in done or language not in args.languages.split(","):
                continue
            gender = GENDERS[(p // 4) % len(GENDERS)]
            profile = UserProfile("Viewer", AGE, gender, taste, language)
            base = {
                "page": p,
                "kind": kind,
                "language": language,
                "gender": gender,
                "taste": taste,
                "history": [m.movie_id for m in history],
                "cards": [m.movie_id for m in cards],
                "model": args.model,
                "threads": args.threads,
            }
            start = time.perf_counter()
            rows = []
            persona_text = ""  # the reasons' prompt does not use it
            if not args.reasons_only:
                persona = write_persona(backend, profile, history, timeout_s=args.timeout)
                persona_text = persona.text
                rows.append(
                    {
                        **base,
                        "type": "persona",
                        "movie_id": None,
                        "raw_text": persona.raw_text,
                        "text": persona.text,
                        "fallback": persona.fallback,
                        "seconds": round(time.perf_counter() - start, 2),
                    }
                )
            for reason in write_reasons(
                backend, profile, persona_text, history, cards, timeout_s=args.timeout * len(cards)
            ):
                rows.append(
                    {
                        **base,
                        "type": "reason",
                        "movie_id": reason.movie_id,
                        "raw_text": reason.raw_text,
                        "text": reason.text,
                        "fallback": reason.error is not None,
                        "seconds": round(reason.elapsed_s, 2),
                    }
                )
            for row in rows:
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
            print(
                f"[{p + 1}/{args.pages}] {kind} {language}: {time.perf_counter() - start:.0f} s",
                flush=True,
            )


def _reason_record(reason: Any) -> dict[str, Any]:
    """What a latency row keeps of one reason: the shown text, whether the evidence template
    wrote it, the model's raw reply and every repair (the last one names why a reason fell back
    to the template), so a run's fallbacks can be read and replayed (``replay``)."""
    return {
        "movie_id": reason.movie_id,
        "text": reason.text,
        "template": reason.template,
        "raw_text": reason.raw_text,
        "repairs": list(reason.repairs),
        "error": reason.error,
    }


def latency(args: argparse.Namespace) -> None:
    """Seconds to the first complete (checked) reason of a page, English and Korean pages in
    turn, the product's default model on ``--threads`` threads, in-process (no server): per
    page, once after warming only the shared system prompt, once after the product's warm-up
    of the predicted first card's whole prompt (what the page does while the viewer reads).
    With ``--read-cards N`` the second stream goes on to ``N`` cards (not timed), so every
    reason of those cards can be scored. Every reason's raw reply and repairs are stored.
    Writes ``<out>.json``/``.md`` (``words_latency`` by default); the machine's load average is
    recorded beside. ``--languages ko`` runs only the plan's Korean pages (same pages, same
    draws as the full plan)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from cinerec.llm.persona import UserProfile
    from cinerec.llm.reasons import warm_prefix, write_reasons

    started = provenance()  # the code this run loaded (files may change while it runs)
    catalog, popular, histories, backend = request_inputs(args.model, args.threads)
    rng = np.random.default_rng(args.seed)
    languages = set(args.languages.split(","))
    out: list[dict[str, Any]] = []
    for p, (kind, language, taste) in enumerate(_plans(args.pages, args.seed)):
        history = histories[int(rng.integers(len(histories)))]
        seen = {m.movie_id for m in history}
        cards = [catalog[int(i)] for i in rng.permutation(popular) if int(i) not in seen][:5]
        if language not in languages or p < args.first_page:
            continue
        profile = UserProfile("Viewer", AGE, "unspecified", taste, language)
        row: dict[str, Any] = {
            "page": p,
            "language": language,
            "kind": kind,
            "taste": taste,
            "history": [m.movie_id for m in history],
            "cards": [m.movie_id for m in cards],
        }
        for mode in ("system_only", "first_card"):
            # a different first card each mode, so the second is not served from the first's cache
            first = cards[0] if mode == "first_card" else cards[1]
            order = [first, *[c for c in cards if c is not first]]
            warm_prefix(
                backend, profile, "", history, movie=first if mode == "first_card" else None
            )
            load = os.getloadavg()[0]
            start = time.perf_counter()
            stream = write_reasons(backend, profile, "", history, order, timeout_s=args.timeout)
            reason = next(stream)
            row[mode] = round(time.perf_counter() - start, 3)
            row[f"{mode}_load1"] = round(load, 2)
            row[f"{mode}_template"] = reason.template
            row[f"{mode}_text"] = reason.text
            row[f"{mode}_order"] = [m.movie_id for m in order]
            records = [_reason_record(reason)]
            if mode == "first_card":
                records += [
                    _reason_record(r) for r in itertools.islice(stream, args.read_cards - 1)
                ]
            row[f"{mode}_reasons"] = records
            stream.close()
        out.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    summary: dict[str, Any] = {"model": args.model, "threads": args.threads, "pages": len(out)}
    for mode in ("system_only", "first_card"):
        for language in ("en", "ko", "all"):
            vals = [r[mode] for r in out if language in ("all", r["language"])]
            if vals:
                boots = [
                    np.median(rng.choice(vals, len(vals))) for _ in range(2000)
                ]  # bootstrap interval of the median
                summary[f"{mode}_{language}"] = {
                    "n": len(vals),
                    "p50": pct(vals, 50),
                    "p95": pct(vals, 95),
                    "p50_ci95": [pct(boots, 2.5), pct(boots, 97.5)],
                }
    summary["load1_mean"] = float(np.mean([r["first_card_load1"] for r in out]))
    summary["rows"] = out
    summary["provenance"] = started
    if args.code:
        summary["code"] = args.code
    stem = RESULTS / args.out
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    lines = [
        "# First complete reason of a page",
        "",
        markdown_header(summary["provenance"]),
        f"Model `{args.model}`, {args.threads} threads, {len(out)} pages (English and Korean in "
        "turn, red-team and ordinary tastes), in-process. *system_only*: only the shared system "
        "prompt was warm; *first_card*: the product's warm-up had evaluated the first card's "
        "whole prompt (as it does while the viewer reads). Seconds from asking to the first "
        "checked reason; the median's 95% bootstrap interval. Machine load average (1 min) "
        f"while timed: mean {summary['load1_mean']:.1f} on {os.cpu_count()} CPUs shared with "
        "other jobs, so these are upper bounds of a quiet machine's times.",
        "",
        "| warm-up | language | n | p50 s [95% CI] | p95 s |",
        "|---|---|---|---|---|",
    ]
    for mode in ("system_only", "first_card"):
        for language in ("en", "ko", "all"):
            c = summary.get(f"{mode}_{language}")
            if c:
                lines.append(
                    f"| {mode} | {language} | {c['n']} | {c['p50']:.2f} "
                    f"[{c['p50_ci95'][0]:.2f}, {c['p50_ci95'][1]:.2f}] | {c['p95']:.2f} |"
                )
    lines += ["", *_fallback_lines(out)]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _fallback_lines(out: list[dict[str, Any]]) -> list[str]:
    """Markdown: the model-written share of first reasons and of every stored reason, per
    language (Wilson 95% intervals), and each reason that fell back with why."""
    lines = [
        "Model-written reasons (the rest are the flagged evidence template), Wilson 95%:",
        "",
        "| reasons | language | model-written / n | share [95% CI] |",
        "|---|---|---|---|",
    ]
    for label, pick in (
        ("first", lambda r: [r[f"{m}_reasons"][0] for m in ("system_only", "first_card")]),
        ("all", lambda r: [*r["system_only_reasons"], *r["first_card_reasons"]]),
    ):
        for language in ("en", "ko"):
            items = [x for r in out if r["language"] == language for x in pick(r)]
            k = sum(not x["template"] and x["text"] is not None for x in items)
            if items:
                low, high = wilson_interval(k, len(items))
                lines.append(
                    f"| {label} | {language} | {k} / {len(items)} | "
                    f"{k / len(items):.2f} [{low:.2f}, {high:.2f}] |"
                )
    lines += ["", "Fallbacks (page, language, card: why; the model's raw reply):", ""]
    for r in out:
        for x in [*r["system_only_reasons"], *r["first_card_reasons"]]:
            if x["template"] or x["text"] is None:
                why = x["repairs"][-1] if x["repairs"] else (x["error"] or "no text")
                lines.append(
                    f"- {r['page']} {r['language']} {x['movie_id']}: {why}; raw `{x['raw_text']}`"
                )
    return lines


def replay(args: argparse.Namespace) -> None:
    """Replay a latency run's stored raw replies through this commit's checks (the product's
    :func:`cinerec.llm.reasons.repair_reason`, same page order, same earlier cards) and score
    raw and shown texts with the fact checker against the whole catalog. The raw replies are
    the model's under the run's prompt and grammar, so this measures only a checks change.
    Writes ``<out>.json``/``.md``: model-written shares as stored and as replayed, false
    claims, and every reason whose outcome changed (stored, replayed, raw)."""
    from cinerec.llm.evidence import build_evidence, evidence_reason
    from cinerec.llm.persona import UserProfile
    from cinerec.llm.reasons import repair_reason
    from cinerec.llm.schemas import ReasonOut, parse_reply

    runs = [json.loads(path.read_text()) for path in args.rows]
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    facts = FactCatalog(catalog.values())
    items: list[dict[str, Any]] = []
    for row in (row for run in runs for row in run["rows"]):
        history = [catalog[i] for i in row["history"]]
        language = row["language"]
        profile = UserProfile("Viewer", AGE, "unspecified", row["taste"], language)
        for mode in ("system_only", "first_card"):
            seen: set[str] = set()
            led: list[str] = []
            for k, rec in enumerate(row[f"{mode}_reasons"]):
                movie = catalog[rec["movie_id"]]
                evidence = build_evidence(movie, history, taste=row["taste"], language=language)
                lead = evidence.lead(led)
                led.extend(f.key for f in lead[:1])
                try:
                    raw = parse_reply(rec["raw_text"] or "", ReasonOut).reason
                except Exception:  # noqa: BLE001 - the product shows no reason then
                    raw = None
                text, template, repairs = None, True, ["unparsable"]
                if raw is not None:
                    text, _, fixes, template = repair_reason(
                        raw,
                        profile=profile,
                        history=history,
                        evidence=evidence,
                        seen=seen,
                        avoid=led[:-1],
                    )
                    repairs = list(fixes)
                score_row = {
                    "type": "reason",
                    "language": language,
                    "history": row["history"],
                    "cards": row["cards"],
                    "movie_id": rec["movie_id"],
                    "taste": row["taste"],
                    "evidence": evidence,
                }
                raw_score = _score(raw, score_row, catalog, facts)
                shown_score = _score(text, score_row, catalog, facts)
                stored_score = _score(rec["text"], score_row, catalog, facts)
                items.append(
                    {
                        "page": row["page"],
                        "language": language,
                        "mode": mode,
                        "position": k,
                        "movie_id": rec["movie_id"],
                        "raw": raw,
                        "stored_text": rec["text"],
                        "stored_template": rec["template"],
                        "stored_why": (rec.get("repairs") or [""])[-1],
                        "text": text,
                        "template": template,
                        # the model's sentence is the draft word for word (true, not its own)
                        "copies_draft": not template
                        and text == evidence_reason(evidence, language, avoid=led[:-1]),
                        "repairs": repairs,
                        "raw_false": raw_score["false_facts"] if raw_score else [],
                        "shown_false": shown_score["false_facts"] if shown_score else [],
                        "stored_false": stored_score["false_facts"] if stored_score else [],
                    }
                )
    summary: dict[str, Any] = {
        "rows_files": [str(p) for p in args.rows],
        "sources": [run["provenance"] for run in runs],
    }
    for label, keep in (("first", lambda x: x["position"] == 0), ("all", lambda x: True)):
        for language in ("en", "ko"):
            part = [x for x in items if x["language"] == language and keep(x)]
            summary[f"{label}_{language}"] = {
                "stored_model_written": _interval(
                    sum(not x["stored_template"] for x in part), len(part)
                ),
                "replayed_model_written": _interval(
                    sum(not x["template"] for x in part), len(part)
                ),
                "replayed_copies_draft": sum(x["copies_draft"] for x in part),
                "raw_false": sum(bool(x["raw_false"]) for x in part),
                "stored_shown_false": sum(bool(x["stored_false"]) for x in part),
                "replayed_shown_false": sum(bool(x["shown_false"]) for x in part),
            }
    summary["items"] = items
    summary["provenance"] = provenance()
    stem = RESULTS / args.out
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    lines = [
        "# Stored raw reasons replayed through this commit's checks",
        "",
        markdown_header(summary["provenance"]),
        "Raw replies of "
        + ", ".join(
            f"`{p}` ({run.get('code') or str(run['provenance'].get('git_sha'))[:10]})"
            for p, run in zip(args.rows, runs, strict=True)
        )
        + "; "
        "*stored*: what that run showed; *replayed*: this commit's checks on the same raw "
        "replies. Model-written: not the flagged evidence template. False: texts with a false "
        "genre, person, year or title claim by the fact checker against the whole catalog.",
        "",
        "| reasons | language | stored model-written [95% CI] | replayed [95% CI] | "
        "replayed, the draft word for word | raw false | shown false stored / replayed |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(c: dict[str, Any]) -> str:
        if not c["n"]:
            return "-"
        return f"{c['count']}/{c['n']} {c['rate']:.2f} [{c['ci95'][0]:.2f}, {c['ci95'][1]:.2f}]"

    for label in ("first", "all"):
        for language in ("en", "ko"):
            c = summary[f"{label}_{language}"]
            lines.append(
                f"| {label} | {language} | {cell(c['stored_model_written'])} | "
                f"{cell(c['replayed_model_written'])} | {c['replayed_copies_draft']} | "
                f"{c['raw_false']} | "
                f"{c['stored_shown_false']} / {c['replayed_shown_false']} |"
            )
    lines += ["", "Outcomes that changed (page, mode, position, card):", ""]
    for x in items:
        if x["template"] != x["stored_template"] or x["text"] != x["stored_text"]:
            lines.append(
                f"- {x['page']} {x['mode']} #{x['position']} {x['movie_id']}: raw `{x['raw']}`; "
                f"stored `{x['stored_text']}` ({x['stored_why']}); replayed `{x['text']}`"
                f"{' (template: ' + x['repairs'][-1] + ')' if x['template'] else ''}"
            )
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _rows_path(tag: str) -> Path:
    """Where a run's rows go: ``words.jsonl`` (the first run, Qwen 1.5B) or
    ``words_<tag>.jsonl``."""
    return RESULTS / (f"words_{tag}.jsonl" if tag else "words.jsonl")


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--model", default="qwen2.5-coder-1.5b")
    gen.add_argument("--pages", type=int, default=40)
    gen.add_argument("--cards", type=int, default=5)
    gen.add_argument("--threads", type=int, default=1)
    gen.add_argument("--seed", type=int, default=11)
    gen.add_argument("--timeout", type=float, default=120.0)
    gen.add_argument("--tag", default="", help="rows go to words_<tag>.jsonl")
    gen.add_argument(
        "--languages", default="en,ko", help="the plan's pages written: en,ko, en or ko"
    )
    gen.add_argument(
        "--reasons-only", action="store_true", help="write no persona (the reasons do not use it)"
    )
    rep = sub.add_parser("report")
    rep.add_argument("--tag", default="", help="score words_<tag>.jsonl into words_<tag>.json/.md")
    rep.add_argument(
        "--out-tag",
        default=None,
        help="write words_<out-tag>.json/.md instead (an earlier run re-scored by this commit)",
    )
    rep.add_argument(
        "--chat",
        type=Path,
        action="append",
        default=[],
        help="chat_qa rows (*.rows.jsonl) whose answers are scored too (repeatable)",
    )
    rep.add_argument(
        "--no-posts", action="store_true", help="leave out the stored post runs' lines"
    )
    rep.add_argument(
        "--posts",
        type=Path,
        default=DEFAULT_POSTS,
        help="a posts.py run (with raw replies) whose one-line reviews are scored too",
    )
    rep.add_argument(
        "--sample",
        type=Path,
        default=None,
        help="hand labels of a sample of this run's raw texts (see the `sample` command)",
    )
    lat = sub.add_parser("latency", help="time the first complete reason of a page")
    lat.add_argument("--model", default="qwen2.5-coder-1.5b")
    lat.add_argument("--threads", type=int, default=2)
    lat.add_argument("--pages", type=int, default=12)
    lat.add_argument("--seed", type=int, default=23)
    lat.add_argument("--timeout", type=float, default=120.0)
    lat.add_argument(
        "--read-cards", type=int, default=1, help="reasons kept of the first_card stream"
    )
    lat.add_argument("--languages", default="en,ko", help="the plan's pages run: en,ko or ko")
    lat.add_argument(
        "--first-page", type=int, default=0, help="skip the plan's pages before this one"
    )
    lat.add_argument("--out", default="words_latency", help="results/<out>.json and .md")
    lat.add_argument(
        "--code",
        default="",
        help="which product code ran, when not the checkout's (e.g. main's, imported from an "
        "export of that commit on PYTHONPATH)",
    )
    rpl = sub.add_parser("replay", help="a latency run's raw replies through this commit's checks")
    rpl.add_argument(
        "--rows", type=Path, action="append", required=True, help="a latency run's .json (repeat)"
    )
    rpl.add_argument("--out", required=True, help="results/<out>.json and .md")
    smp = sub.add_parser("sample", help="draw raw texts of a run for hand labelling")
    smp.add_argument("--tag", default="")
    smp.add_argument("--chat", type=Path, action="append", default=[])
    smp.add_argument("--posts", type=Path, default=DEFAULT_POSTS)
    smp.add_argument("--no-posts", action="store_true", help="as `report --no-posts`")
    smp.add_argument("--n", type=int, default=100)
    smp.add_argument("--seed", type=int, default=5)
    smp.add_argument("--korean", type=int, default=None, help="draw exactly this many Korean")
    smp.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "generate":
        generate(args)
    elif args.command == "sample":
        sample(args)
    elif args.command == "latency":
        latency(args)
    elif args.command == "replay":
        replay(args)
    else:
        report(args)


# ---------------------------------------------------------------- scoring

# a genre said of the ticked movies and a person called what is no role are facts too
FACT_KINDS = ("genre", "ticked_genre", "director", "cast", "person", "appositive", "year", "title")
_TOKEN = re.compile(r"[^\W_]+")


def _false(checked: Sequence[Any], kinds: Sequence[str] | None = None) -> list[str]:
    return [
        f"{c.claim.kind} {c.claim.span!r} ({c.why})"
        for c in checked
        if c.ok is False and (kinds is None or c.claim.kind in kinds)
    ]


def page_overlap(texts: Sequence[str]) -> float | None:
    """The overlap of one page's reasons: the mean, over every pair of the page's reasons, of
    the Jaccard index of their sets of lower-cased word tokens (titles included). 0: no word in
    common; 1: the same words. None for a page with fewer than two reasons."""
    sets = [set(_TOKEN.findall(t.casefold())) for t in texts if t]
    pairs = list(itertools.combinations(sets, 2))
    if not pairs:
        return None
    return float(np.mean([len(a & b) / len(a | b) if a | b else 0.0 for a, b in pairs]))


def cites_specific_fact(text: str, evidence: Any, checked: Sequence[Any]) -> bool:
    """Whether a reason cites a fact that belongs to its card: a person of the card (director
    or cast), a keyword of the card, a matched taste word, or a ticked movie it correctly names
    as sharing something (a true ``title`` claim other than the card's own). Genres and years
    alone do not count."""
    from cinerec.llm.evidence import genre_name

    folded = text.casefold()
    for fact in evidence.facts:
        if fact.kind in ("director", "cast", "keyword") and fact.value.casefold() in folded:
            return True
        if fact.kind == "taste":
            names = {fact.value.casefold(), genre_name(fact.value, "ko").casefold()}
            if any(n in folded for n in names):
                return True
    if any(k.casefold() in folded for k in evidence.movie.keywords if len(k) > 3):
        return True
    movie = evidence.movie
    people = [*(d.strip() for d in (movie.director or "").split(",")), *movie.cast]
    if any(p and p.casefold() in folded for p in people):  # a person of the card
        return True
    own = evidence.movie.title
    return any(c.claim.kind == "title" and c.ok and c.claim.value != own for c in checked)


def _interval(k: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(k, n) if n else (None, None)
    return {"count": k, "n": n, "rate": k / n if n else None, "ci95": [low, high]}


def _mean_ci(values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    values = [v for v in values if v is not None]
    if not values:
        return {"mean": None, "n": 0, "ci95": [None, None]}
    rng = np.random.default_rng(seed)
    arr = np.asarray(values)
    boots = [rng.choice(arr, len(arr)).mean() for _ in range(2000)]
    return {
        "mean": float(arr.mean()),
        "n": len(arr),
        "ci95": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
    }


def _shown(rows: list[dict[str, Any]], catalog: dict[int, Movie]) -> None:
    """Recompute each row's shown text from its raw reply with the current product repair."""
    from cinerec.llm.evidence import build_evidence, evidence_reason
    from cinerec.llm.persona import UserProfile, repair_persona, template_persona
    from cinerec.llm.reasons import repair_reason
    from cinerec.llm.schemas import PersonaOut, ReasonOut, parse_reply

    pages: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        pages.setdefault(row["page"], []).append(row)
    for page in pages.values():
        first = page[0]
        history = [catalog[i] for i in first["history"]]
        profile = UserProfile("Viewer", AGE, first["gender"], first["taste"], first["language"])
        seen: set[str] = set()
        led: list[str] = []
        for row in page:
            row["template"] = False
            if row["type"] == "persona":
                try:
                    persona = parse_reply(row["raw_text"] or "", PersonaOut).persona
                    text, _, _, problem = repair_persona(persona, profile, history)
                except Exception:  # noqa: BLE001 - unparsable replies fall back, as the product
                    problem = "unparsable"
                if problem:
                    text, row["template"] = template_persona(profile, history), True
                row["shown"] = text
                continue
            card = catalog[row["movie_id"]]
            # the product's evidence for the page's language (Korean puts the catalog's
            # English keywords last): without it 44 of words_0.5b_v11's 100 Korean shown
            # reasons were recomputed from another lead fact than the product showed
            evidence = build_evidence(card, history, taste=profile.taste, language=profile.language)
            led.append(evidence.lead(led)[0].key if evidence.facts else "")
            row["evidence"] = evidence
            # the sentence the prompt asked the model to rephrase (reason_user*.txt's draft)
            row["draft"] = evidence_reason(
                evidence, profile.language, avoid=led[:-1], say_watched=False
            )
            try:
                raw = parse_reply(row["raw_text"] or "", ReasonOut).reason
            except Exception:  # noqa: BLE001 - the product shows no reason then (flagged)
                row["shown"] = None
                continue
            text, _, _, template = repair_reason(
                raw, profile=profile, history=history, evidence=evidence, seen=seen, avoid=led[:-1]
            )
            row["shown"], row["template"] = text, template


def _reasons_by_language(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The reason rows of ``rows``, by language (only languages that have one)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["type"] == "reason":
            out.setdefault(r["language"], []).append(r)
    return out


def _same_words(a: str | None, b: str | None) -> bool:
    """Whether two texts have the same words, ignoring case, spacing and punctuation."""
    if not a or not b:
        return False
    return re.findall(r"\w+", a.casefold()) == re.findall(r"\w+", b.casefold())


def _score(
    text: str | None, row: dict[str, Any], catalog: dict[int, Movie], facts: FactCatalog
) -> dict[str, Any] | None:
    if not text:
        return None
    history = [catalog[i] for i in row.get("history", [])]
    subject = catalog.get(row["movie_id"]) if row.get("movie_id") else None
    checked = check_text(
        text,
        subject=subject,
        watched=history,
        language=row["language"],
        catalog=facts,
        page=[catalog[i] for i in row.get("cards", [])],
        persona=row["type"].endswith("persona"),
        gender=row.get("gender"),
        taste=row.get("taste", ""),
    )
    if subject is not None:  # the card's own keyword ("San Francisco") names no other movie,
        # unless the text cites it as a watched movie ("like San Francisco, which you watched")
        cited = {(c.claim.value, c.claim.sentence) for c in checked if c.claim.kind == "watched"}
        checked = [
            c
            for c in checked
            if not (
                c.claim.kind == "title"
                and c.claim.value != subject.title
                and (c.claim.value, c.claim.sentence) not in cited
                and own_keyword(c.claim.span, subject.keywords)
            )
        ]
    chat = row["type"] == "chat_answer"  # names any movie: titles are the grounding's job
    out = {
        "claims": len(checked),
        "false_facts": _false(checked, FACT_KINDS[:-1] if chat else FACT_KINDS),
        "false_any": _false(checked, FACT_KINDS[:-1]) if chat else _false(checked),
        "against": bool(_false(checked, ("against",))),
        "wrong_movie": any(
            c.claim.kind == "title" and c.ok is False and "ticked" not in c.why for c in checked
        )
        or any(c.claim.kind == "title" and "another card" in c.why for c in checked),
        "pronoun_errors": len(_false(checked, ("pronoun",))),
        "ends_at_sentence": text.rstrip()[-1:] in ".!?。！？"
        or text.rstrip().endswith(("요", "다")),
    }
    if row["type"] == "reason" and row.get("evidence") is not None:
        out["specific"] = cites_specific_fact(text, row["evidence"], checked)
    return out


def _post_rows(catalog: dict[int, Movie], path: Path = DEFAULT_POSTS) -> list[dict[str, Any]]:
    """One-line reviews of the stored post runs: the raw reply, and what this commit's checks
    (:func:`cinerec.llm.posts.checks.check_review`, the fact checker included) make of it: the
    cleaned line, or the synopsis line the product shows when a line stays unusable (flagged
    ``template``; the product first asks again, warmer, which a re-score cannot replay)."""
    from cinerec.llm.posts.checks import check_review, synopsis_review

    if not path.exists():
        return []
    rows = []
    for k, run in enumerate(json.loads(path.read_text())["rows"]):
        ids = [int(n.split()[1]) for n, _ in run.get("raw_outputs", []) if n.startswith("review ")]
        tries: dict[int, int] = {}
        for name, raw in run.get("raw_outputs", []):
            if not name.startswith("review "):
                continue
            movie_id = int(name.split()[1])
            tries[movie_id] = tries.get(movie_id, 0) + 1  # a movie's second try is "#1"
            movie, language = catalog[movie_id], run["language"]
            others = [catalog[i] for i in ids if i != movie_id and i in catalog]
            cleaned, problem = check_review(
                raw_prose(raw) or "", movie, others, theme=run["theme"], language=language
            )
            rows.append(
                {
                    "page": f"post{k}",
                    "type": "post_line",
                    "kind": "ordinary",
                    "language": language,
                    "movie_id": movie_id,
                    "raw_text": raw,
                    "shown": synopsis_review(movie, language) if problem else cleaned,
                    "template": bool(problem),
                    "attempt": tries[movie_id] - 1,
                }
            )
    return rows


def _today_rows(catalog: dict[int, Movie]) -> list[dict[str, Any]]:
    """Today's texts: the stored request rerun with raw replies (``llm_requests_raw.jsonl``:
    12 red-team pages, 4 cards, seed 7), with each page's ticked movies and cards drawn again
    exactly as ``benchmarks/llm_requests.py`` drew them (same data, same seed, same order)."""
    from benchmarks.llm_requests import _plans as request_plans

    path = RESULTS / "llm_requests_raw.jsonl"
    stored = _rows(path)
    if not stored:
        return []
    config = json.loads(path.with_suffix(".json").read_text())["config"]
    popular, histories = request_pools(catalog)
    rng = np.random.default_rng(config["seed"])
    plans = request_plans(config["plans"], config["seed"])
    context = {}
    for p, (_, _, taste) in enumerate(plans):
        history = histories[int(rng.integers(len(histories)))]
        cards = [int(i) for i in rng.permutation(popular) if int(i) not in set(history)]
        context[p] = (history, cards[: config["cards"]], taste)
    from cinerec.llm.evidence import build_evidence

    rows = []
    for plan, group in itertools.groupby(stored, key=lambda r: r["plan"]):
        history, cards, taste = context[plan]
        reasons = iter(cards)
        for row in group:
            reason = row["request"] == "reason"
            rows.append(
                {
                    "page": f"today{plan}",
                    "type": "today_" + row["request"],
                    "kind": row["kind"],
                    "language": row["language"],
                    "gender": None,
                    "taste": taste,
                    "history": history,
                    "cards": cards,
                    "movie_id": next(reasons) if reason else None,
                    "raw_text": row["raw_text"],
                    "shown": row["text"],
                }
            )
            if reason:  # the same evidence measure as the new reasons, for "specific fact"
                rows[-1]["evidence"] = build_evidence(
                    catalog[rows[-1]["movie_id"]], [catalog[i] for i in history], taste=taste
                )
    return rows


def _stored_reason_pages() -> dict[str, dict[str, list[list[str]]]]:
    """Today's reasons: the stored request runs' reasons, grouped by page (raw and shown)."""
    out: dict[str, list[list[str]]] = {"raw": [], "shown": []}
    paths = [RESULTS / "llm_requests_raw.jsonl", *sorted(RESULTS.glob("llm_requests.shard*.jsonl"))]
    for path in paths:
        pages: dict[int, list[dict[str, Any]]] = {}
        for row in _rows(path):
            if row["request"] == "reason":
                pages.setdefault(row["plan"], []).append(row)
        for page in pages.values():
            out["shown"].append([r["text"] or "" for r in page])
            if all(r.get("raw_text") for r in page):
                out["raw"].append([raw_prose(r["raw_text"]) or "" for r in page])
    return {"today": out}


_CITATION = re.compile(r"\[\s*#\s*(\d{1,9})\s*\]")


def _chat_rows(paths: Sequence[Path], catalog: dict[int, Movie]) -> list[dict[str, Any]]:
    """The scored answers of ``benchmarks/chat_qa.py`` runs (turn 2 of a follow-up): RAW is
    the model's reply (``raw``; the template when it wrote none), SHOWN what the chat showed.
    The movies an answer is about are the ones it cites or the question's gold names."""
    rows = []
    for path in paths:
        for q in _rows(path):
            gold = q.get("gold") or {}
            about = [int(i) for i in _CITATION.findall(q["shown"] or "")]
            about += [int(i) for i in gold.get("ids", [])[:20]]
            about += [int(gold[k]) for k in ("movie", "a", "b") if isinstance(gold.get(k), int)]
            rows.append(
                {
                    "page": f"chat{q['qid']}",
                    "type": "chat_answer",
                    "kind": "ordinary",
                    "language": q["language"],
                    "gender": None,
                    "history": [],
                    "cards": [i for i in dict.fromkeys(about) if i in catalog],
                    "movie_id": None,
                    "raw_text": q["raw"],
                    "shown": q["shown"],
                    "model_written": q.get("model_written", False),
                    # the chat showed its template (flagged), or a deterministic "unknown"
                    "template": not q.get("model_written", False),
                    "chat_kind": q["kind"],
                    "source": path.name,
                }
            )
    return rows


def _scored_rows(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[int, Movie]]:
    """Every text of a run (its pages, the stored post lines, the chat answers named by
    ``--chat``, and the stored request rerun's texts), each with ``raw``, ``raw_score`` and
    ``shown_score``."""
    from cinerec.llm.schemas import PersonaOut, ReasonOut, parse_reply

    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    facts = FactCatalog(catalog.values())
    rows = _rows(_rows_path(args.tag))
    _shown(rows, catalog)
    posts = (
        _post_rows(catalog, getattr(args, "posts", DEFAULT_POSTS))
        if not getattr(args, "no_posts", False)
        else []
    )
    rows += posts + _chat_rows(args.chat, catalog) + _today_rows(catalog)
    for row in rows:
        schema = PersonaOut if row["type"].endswith("persona") else ReasonOut
        try:
            raw = (
                parse_reply(row["raw_text"], schema).model_dump().popitem()[1]
                if row["type"] in ("persona", "reason")
                else raw_prose(row["raw_text"])
            )
        except Exception:  # noqa: BLE001 - a reply that does not parse is scored as written
            raw = raw_prose(row["raw_text"])
        row["raw"] = raw
        row["raw_score"] = _score(raw, row, catalog, facts)
        row["shown_score"] = _score(row["shown"], row, catalog, facts)
    return rows, catalog


def _key(row: dict[str, Any]) -> str:
    """A text's id across runs: page, type and card (or the chat question)."""
    attempt = f"#{row['attempt']}" if row.get("attempt") else ""
    return f"{row['page']}/{row['type']}/{row.get('movie_id') or ''}{attempt}"


def sample(args: argparse.Namespace) -> None:
    """Draw ``--n`` raw texts of the run (reasons, personas, chat answers, post lines, in
    proportion) for hand labelling; each line carries the facts a reader needs."""
    rows, catalog = _scored_rows(args)
    pool = [r for r in rows if not r["type"].startswith("today_") and r["raw"]]
    rng = np.random.default_rng(args.seed)
    if args.korean is None:
        picked = [pool[int(i)] for i in sorted(rng.choice(len(pool), args.n, replace=False))]
    else:  # exactly --korean Korean texts, the rest English, each drawn at random
        picked = []
        for language, k in (("ko", args.korean), ("en", args.n - args.korean)):
            part = [r for r in pool if r["language"] == language]
            picked += [part[int(i)] for i in sorted(rng.choice(len(part), k, replace=False))]

    def facts(movie_id: int) -> str:
        m = catalog[movie_id]
        return (
            f"{m.title} ({m.year}): {', '.join(m.genres)}; director {m.director or '?'}; "
            f"cast {', '.join(m.cast[:5]) or '?'}; keywords {', '.join(m.keywords[:12])}"
        )

    with args.out.open("w", encoding="utf-8") as sink:
        for row in picked:
            item = {
                "id": _key(row),
                "type": row["type"],
                "language": row["language"],
                "gender": row.get("gender"),
                "age": AGE,
                "text": row["raw"],
                "card": facts(row["movie_id"]) if row.get("movie_id") else None,
                "taste": row.get("taste", ""),
                # with cast and keywords: the 1.5B sample's reader marked three true claims
                # false ("Holly Hunter, who is also in The Piano") for want of them
                "ticked": [facts(i) for i in row.get("history", [])],
                "about": [facts(i) for i in row.get("cards", [])][:6],
                "checker": row["raw_score"]["false_any"] if row["raw_score"] else [],
                "false": None,
                "note": "",
            }
            sink.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(picked)} texts -> {args.out}")


def report(args: argparse.Namespace) -> None:
    """Score the stored texts and write ``words[_tag].json`` and ``words[_tag].md``."""
    rows, catalog = _scored_rows(args)
    facts = FactCatalog(catalog.values())
    summary = _summary(rows, args)
    summary["gold"] = _gold(catalog, facts)
    if args.sample and args.sample.exists():
        summary["hand_sample"] = _hand_sample(args.sample, rows)
    tag = args.tag if args.out_tag is None else args.out_tag
    stem = f"words_{tag}" if tag else "words"
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / f"{stem}.md").write_text(_markdown(summary))
    print((RESULTS / f"{stem}.md").read_text())


def _hand_sample(path: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The hand labels of a drawn sample: false texts by the reader, and by the checker."""
    items = [i for i in _rows(path) if i.get("false") is not None]
    by_key = {_key(r): r for r in rows}
    flagged = [
        bool(by_key[i["id"]]["raw_score"] and by_key[i["id"]]["raw_score"]["false_facts"])
        for i in items
        if i["id"] in by_key
    ]
    return {
        "file": str(path),
        "labelled": len(items),
        "korean": sum(i["language"] == "ko" for i in items),
        "false_by_reader": _interval(sum(bool(i["false"]) for i in items), len(items)),
        "false_by_checker": _interval(sum(flagged), len(flagged)),
        # the reader's label after the lead checked it against the whole catalog record (the
        # sample file shows a few facts of each movie); absent when nothing was adjudicated
        "false_adjudicated": _interval(
            sum(bool(i.get("adjudicated_false", i["false"])) for i in items), len(items)
        )
        if any("adjudicated_false" in i for i in items)
        else None,
        "by_language": {
            language: {
                "false_by_reader": _interval(sum(bool(i["false"]) for i in part), len(part)),
                "garbled": _interval(sum(bool(i.get("garbled")) for i in part), len(part)),
            }
            for language in ("en", "ko")
            if (part := [i for i in items if i["language"] == language])
        },
        "false_items": [{"id": i["id"], "note": i["note"]} for i in items if i["false"]],
        "labeller": _rows(path)[0].get("labeller", "") if items else "",
    }


def _rates(rows: list[dict[str, Any]], side: str) -> dict[str, Any]:
    scored = [r[f"{side}_score"] for r in rows if r[f"{side}_score"] is not None]
    reasons = [r[f"{side}_score"] for r in rows if r["type"] == "reason" and r[f"{side}_score"]]
    personas = [r[f"{side}_score"] for r in rows if r["type"] == "persona" and r[f"{side}_score"]]
    return {
        "texts": len(scored),
        "false_factual_claim": _interval(sum(bool(s["false_facts"]) for s in scored), len(scored)),
        "any_rejected_claim": _interval(sum(bool(s["false_any"]) for s in scored), len(scored)),
        "reasons_against_card": _interval(sum(s["against"] for s in reasons), len(reasons)),
        "reasons_wrong_movie": _interval(sum(s["wrong_movie"] for s in reasons), len(reasons)),
        "reasons_specific_fact": _interval(
            sum(s.get("specific", False) for s in reasons), len(reasons)
        ),
        "personas_end_at_sentence": _interval(
            sum(s["ends_at_sentence"] for s in personas), len(personas)
        ),
        "personas_with_pronoun_error": _interval(
            sum(s["pronoun_errors"] > 0 for s in personas), len(personas)
        ),
    }


def _summary(rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    ours: dict[str, list[list[str]]] = {"raw": [], "shown": []}
    pages: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        if row["type"] == "reason":
            pages.setdefault(row["page"], []).append(row)
    for page in pages.values():
        ours["raw"].append([r["raw"] or "" for r in page])
        ours["shown"].append([r["shown"] or "" for r in page])
    today = _stored_reason_pages()["today"]
    overlap = {
        f"{who}_{side}": _mean_ci([page_overlap(p) for p in pages_[side]])
        for who, pages_ in (("new", ours), ("today", today))
        for side in ("raw", "shown")
    }
    generated = [r for r in rows if r["type"] in ("persona", "reason")]
    today_rows = [r for r in rows if r["type"].startswith("today_")]
    rows = [r for r in rows if not r["type"].startswith("today_")]
    groups = {
        "all": rows,
        "reasons": [r for r in rows if r["type"] == "reason"],
        "personas": [r for r in rows if r["type"] == "persona"],
        "post_lines": [r for r in rows if r["type"] == "post_line"],
        "chat_answers": [r for r in rows if r["type"] == "chat_answer"],
        "en": [r for r in rows if r["language"] == "en"],
        "ko": [r for r in rows if r["language"] == "ko"],
        "red_team": [r for r in rows if r["kind"] != "ordinary"],
        "today_reasons": [
            {**r, "type": "reason"} for r in today_rows if r["type"] == "today_reason"
        ],
        "today_personas": [
            {**r, "type": "persona"} for r in today_rows if r["type"] == "today_persona"
        ],
    }
    seconds = sorted(r["seconds"] for r in generated if r["type"] == "reason")
    firsts = sorted(next(r["seconds"] for r in page) for page in pages.values() if page)
    examples = [
        {k: r.get(k) for k in ("page", "type", "language", "raw", "shown")}
        | {"raw_false": r["raw_score"]["false_any"] if r["raw_score"] else []}
        for r in rows
        if r["raw_score"] and r["raw_score"]["false_any"]
    ][:25]
    shown_false = [
        {k: r.get(k) for k in ("page", "type", "language", "shown")}
        | {"false": r["shown_score"]["false_any"]}
        for r in rows
        if r["shown_score"] and r["shown_score"]["false_any"]
    ]
    return {
        "config": {
            "model": generated[0]["model"] if generated else None,
            "threads": generated[0]["threads"] if generated else None,
            "pages": len({r["page"] for r in generated}),
            "machine": f"{os.cpu_count()} CPUs, shared",
            "tag": getattr(args, "tag", ""),
            "out_tag": getattr(args, "out_tag", None),
            "no_posts": getattr(args, "no_posts", False),
            "posts": str(getattr(args, "posts", DEFAULT_POSTS)),
            "chat": [str(p) for p in getattr(args, "chat", [])],
            "sample": str(args.sample) if getattr(args, "sample", None) else None,
        },
        "counts": {
            name: {"texts": len(g), "ko": sum(r["language"] == "ko" for r in g)}
            for name, g in groups.items()
        },
        "raw": {name: _rates(g, "raw") for name, g in groups.items()},
        "shown": {name: _rates(g, "shown") for name, g in groups.items()},
        "templates_shown": _interval(
            sum(bool(r.get("template")) for r in generated), len(generated)
        ),
        "templates_shown_by_type": {
            kind: _interval(
                sum(bool(r.get("template")) for r in rows if r["type"] == kind),
                sum(r["type"] == kind for r in rows),
            )
            for kind in ("reason", "persona", "post_line", "chat_answer")
        },
        # template text the model wrote itself: its reason is the draft word for word
        "reasons_copying_draft": {
            language: _interval(sum(_same_words(r["raw"], r.get("draft")) for r in part), len(part))
            for language, part in _reasons_by_language(generated).items()
        },
        "page_overlap": overlap,
        "reason_seconds_p50": seconds[len(seconds) // 2] if seconds else None,
        "first_reason_seconds_p50": firsts[len(firsts) // 2] if firsts else None,
        "examples_raw_rejected": examples,
        "shown_rejected": shown_false,
        "provenance": provenance(),
    }


def _gold(catalog: dict[int, Movie], facts: FactCatalog) -> dict[str, Any]:
    """The checker against the hand labels (``benchmarks/data/words_gold.jsonl``).

    Each text carries two labels an engineer gave by reading it against the catalog: ``false``,
    it holds a false claim about a movie (genre, person, year, plot, setting, a movie cited as
    ticked, another movie) or about the viewer (a gendered word the profile does not give, an
    echoed instruction or fake title), or a tag or prompt formatting; and ``false_in_scope``,
    one of those false claims is of a kind the checker extracts (genre, person and role, year,
    a cited or named movie, arguing against the card, pronoun, tag, formatting), whatever the
    language or script it is written in. Precision counts a flagged text as right when
    ``false``; recall is given against both labels.
    """
    if not GOLD.exists():
        return {}
    items = _rows(GOLD)
    out = _gold_scores(items, catalog, facts)
    for split in ("tuning", "held_out"):
        part = [i for i in items if i.get("split") == split]
        out[split] = _gold_scores(part, catalog, facts) if part else None
    return out


def _gold_scores(
    items: list[dict[str, Any]], catalog: dict[int, Movie], facts: FactCatalog
) -> dict[str, Any]:
    flagged = {}
    for item in items:
        row = {**item, "evidence": None}
        score = _score(item["text"], row, catalog, facts)
        flagged[item["id"]] = bool(score and score["false_any"])
    tp = sum(flagged[i["id"]] and i["false"] for i in items)
    fp = sum(flagged[i["id"]] and not i["false"] for i in items)
    positives = sum(bool(i["false"]) for i in items)
    in_scope = [i for i in items if i["false_in_scope"]]
    return {
        "texts": len(items),
        "korean": sum(i["language"] == "ko" for i in items),
        "positives": positives,
        "positives_in_scope": len(in_scope),
        "precision": _interval(tp, tp + fp),
        "recall": _interval(tp, positives),
        "recall_in_scope": _interval(sum(flagged[i["id"]] for i in in_scope), len(in_scope)),
        "false_positives": [i["id"] for i in items if flagged[i["id"]] and not i["false"]],
        "missed_in_scope": [
            {"id": i["id"], "note": i["note"]} for i in in_scope if not flagged[i["id"]]
        ],
    }


def _cell(r: dict[str, Any]) -> str:
    if not r["n"]:
        return "-"
    return f"{r['count']}/{r['n']} = {r['rate']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"


def _mean_cell(r: dict[str, Any]) -> str:
    if not r["n"]:
        return "-"
    return f"{r['mean']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}] (n={r['n']} pages)"


def _markdown(s: dict[str, Any]) -> str:
    c = s["config"]
    lines = [
        "# Words that are true: reasons, personas and post lines by the fact checker",
        "",
        markdown_header(s["provenance"]),
        f"Model `{c['model']}`, {c['threads']} thread(s), {c['pages']} pages (a persona and 5 "
        "reasons each, evidence-first prompts), plus the one-line reviews of the stored post "
        f"run (`{Path(c.get('posts') or DEFAULT_POSTS).name}`, raw replies, Qwen 0.5B; SHOWN "
        "recomputed with this "
        "commit's post checks) and the answers of the chat runs named by `--chat` (RAW: the "
        "model's phrasing, or the template when it wrote none; SHOWN: what the chat showed; "
        "checked for genre, person and year claims only, since an answer may name any catalog "
        "movie). RAW: the model's reply before any repair; "
        "SHOWN: what the product shows after its repairs (recomputed from the raw reply with "
        "this commit's code; review notes were not available to the benchmark, so no card had "
        "review evidence). Checked by `cinerec.llm.facts` against the whole catalog (a phrase "
        "that is one of the card's own keywords is not read as another movie's title, "
        "`benchmarks/checks/keywords.py`). 95% Wilson intervals; page overlap with bootstrap "
        "intervals over pages. Rows *today_reasons* and "
        "*today_personas* score, with the same checker, the stored raw replies of the request "
        "rerun before this change (`llm_requests_raw.jsonl`, 12 red-team pages, 4 cards; the "
        "viewer-block prompt with catalog facts) with its pages' ticked movies and cards drawn "
        "again from the same seed; their *shown* text is what that code showed.",
        "",
        "Counts: "
        + ", ".join(f"{k} {v['texts']} ({v['ko']} Korean)" for k, v in s["counts"].items()),
        "",
        "| | side | texts | false factual claim | any rejected claim | reasons against card "
        "| reasons about wrong movie | reasons citing a specific fact | personas ending at a "
        "sentence | personas with a pronoun error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for side in ("raw", "shown"):
        for name, g in s[side].items():
            lines.append(
                f"| {name} | {side} | {g['texts']} | {_cell(g['false_factual_claim'])} | "
                f"{_cell(g['any_rejected_claim'])} | {_cell(g['reasons_against_card'])} | "
                f"{_cell(g['reasons_wrong_movie'])} | {_cell(g['reasons_specific_fact'])} | "
                f"{_cell(g['personas_end_at_sentence'])} | "
                f"{_cell(g['personas_with_pronoun_error'])} |"
            )
    o = s["page_overlap"]
    lines += [
        "",
        f"Evidence templates shown instead of the model's text: {_cell(s['templates_shown'])}.",
        "",
        "Shown text not written by the model (flagged templates: the evidence sentence, the "
        "template persona, the synopsis line, the chat's template answer or its deterministic "
        "'the catalog does not know'), by type: "
        + ", ".join(f"{k} {_cell(v)}" for k, v in s["templates_shown_by_type"].items())
        + ".",
        "",
        "Raw reasons that are the prompt's draft word for word (true, but the evidence "
        "template in the model's hand; not counted above): "
        + ", ".join(f"{k} {_cell(v)}" for k, v in s.get("reasons_copying_draft", {}).items())
        + ".",
        "",
        "Page overlap (mean pairwise token Jaccard of one page's reasons; lower is more specific):",
        "",
        "| | raw | shown |",
        "|---|---|---|",
        f"| this run | {_mean_cell(o['new_raw'])} | {_mean_cell(o['new_shown'])} |",
        f"| today (stored request runs) | {_mean_cell(o['today_raw'])} | "
        f"{_mean_cell(o['today_shown'])} |",
        "",
        f"Seconds per reason p50 {s['reason_seconds_p50']}, first reason of a page p50 "
        f"{s['first_reason_seconds_p50']} (1 thread on a shared, loaded 2-core machine: not a "
        "latency measurement).",
        "",
    ]
    g = s.get("gold") or {}
    if g:
        lines += [
            f"Gold set (`benchmarks/data/words_gold.jsonl`: {g['texts']} raw texts, "
            f"{g['korean']} Korean, labelled by an engineer reading each against the catalog; "
            f"{g['positives']} hold a false claim, {g['positives_in_scope']} of a kind the "
            f"checker extracts): checker precision {_cell(g['precision'])}; recall on all false "
            f"texts {_cell(g['recall'])}, on those of a checked kind "
            f"{_cell(g['recall_in_scope'])}. Checked-kind misses: "
            + "; ".join(f"{m['id']} ({m['note']})" for m in g["missed_in_scope"])
            + f". False positives: {', '.join(g['false_positives']) or 'none'}.",
            "",
        ]
        for split, what in (
            ("tuning", "texts read while the checker's rules were tuned (stored runs, pages 0-7)"),
            (
                "held_out",
                "texts labelled after checker commit d318b83; two Korean 'argues against' "
                "misses among them led to the patterns of the next commit, so they are no "
                "longer held out: their held-out score is in this file at 8be4766",
            ),
        ):
            h = g.get(split)
            if h:
                lines += [
                    f"- {split} ({what}): {h['texts']} texts, {h['positives']} false; precision "
                    f"{_cell(h['precision'])}, recall {_cell(h['recall'])}, checked kinds "
                    f"{_cell(h['recall_in_scope'])}.",
                ]
        lines.append("")
    lines += ["Raw texts the checker rejected (first 25):", ""]
    for e in s["examples_raw_rejected"]:
        lines.append(f"- {e['type']} ({e['language']}): {e['raw']!r}: {e['raw_false']}")
    lines += ["", "Shown texts the checker rejects:", ""]
    for e in s["shown_rejected"] or [{"type": "none"}]:
        lines.append(
            f"- {e['type']} ({e.get('language')}): {e.get('shown')!r}: {e.get('false')}"
            if e["type"] != "none"
            else "- none"
        )
    h = s.get("hand_sample")
    if h:
        lines += [
            "",
            f"Hand-checked sample (`{h['file']}`, {h['labelled']} raw texts, {h['korean']} "
            f"Korean; labeller: {h['labeller']}): false by the reader "
            f"{_cell(h['false_by_reader'])}; false factual claim by the checker on the same "
            f"texts {_cell(h['false_by_checker'])}"
            + (
                f"; after the lead's check against the catalog {_cell(h['false_adjudicated'])}"
                if h.get("false_adjudicated")
                else ""
            )
            + ". By language: "
            + "; ".join(
                f"{k} false {_cell(v['false_by_reader'])}, garbled {_cell(v['garbled'])}"
                for k, v in h.get("by_language", {}).items()
            )
            + ". False ones: "
            + ("; ".join(f"{i['id']} ({i['note']})" for i in h["false_items"]) or "none")
            + ".",
        ]
    tag = c.get("tag") or ""
    lines += [
        "",
        "Commands: rows `nice -n 10 python benchmarks/words.py generate --model "
        f"{c['model']} --threads {c['threads']} --pages {c['pages']}"
        + (f" --tag {tag}" if tag else "")
        + f"` (resumable: the rows hold {c['pages']} pages), then `python "
        "benchmarks/words.py report"
        + (f" --tag {tag}" if tag else "")
        + "".join(f" --chat {p}" for p in c.get("chat", []))
        + (" --no-posts" if c.get("no_posts") else "")
        + (
            f" --posts {c['posts']}"
            if c.get("posts") and Path(c["posts"]) != DEFAULT_POSTS and not c.get("no_posts")
            else ""
        )
        + (f" --sample {c['sample']}" if c.get("sample") else "")
        + (f" --out-tag {c['out_tag']}" if c.get("out_tag") is not None else "")
        + "`.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
