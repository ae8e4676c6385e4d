"""Invented tastes in personas: the fact checker's ``mood`` claims against hand labels.

``score`` reads persona rows (``benchmarks/words.py generate`` rows, or this script's
``generate`` rows), checks each raw persona with the product's fact checker
(:mod:`cinerec.llm.facts`) against the viewer's taste text and ticked movies, and says which
persona invents a taste: a ``mood`` claim (a mood, quality or style neither the taste nor a
ticked movie's keywords give) or a persona ``genre`` claim (a genre neither ticked nor named)
that is false. It runs the product's repair (:func:`cinerec.llm.persona.repair_persona`) on each
raw persona and counts the sentences it drops for a mood claim and the personas left to the
template. With ``--labels`` (a JSONL of ``run``, ``page``, ``invents_taste``: labels written by
hand before the checker's verdicts were seen) it reports the checker's precision and recall.

``generate`` writes personas only (no reasons) with the real embedded model for the pages of a
stored words run (same viewer, taste, ticks, language and gender), so the raw personas of two
commits can be compared page by page.

    python benchmarks/persona_taste.py score --rows benchmarks/results/words_1.5b_v20.jsonl \
        --rows benchmarks/results/words_1.5b_v22en.jsonl \
        --labels benchmarks/data/persona_taste_labels_1.5b.jsonl --out persona_taste_rescored
    nice -n 19 python benchmarks/persona_taste.py generate \
        --pages-from benchmarks/results/words_1.5b_v20.jsonl --tag 1.5b
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*

from benchmarks.provenance import markdown_header, provenance, relative_arg  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.data.types import Movie  # noqa: E402
from cinerec.llm.facts import Checked, check_text  # noqa: E402
from cinerec.reviews.metrics import wilson_interval  # noqa: E402

RESULTS = Path("benchmarks/results")
AGE = 30  # benchmarks/words.py's viewers' age
TASTE_KINDS = ("mood", "genre")


def _run_name(path: Path) -> str:
    """``v20`` for ``words_1.5b_v20.jsonl``, the stem's last part otherwise."""
    return path.stem.rsplit("_", 1)[-1]


def _persona_rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("type") == "persona":
                rows.append({**row, "run": row.get("run") or _run_name(path)})
    return rows


def _raw_persona(raw_text: str | None) -> str:
    from cinerec.llm.schemas import PersonaOut, parse_reply

    try:
        return parse_reply(raw_text or "", PersonaOut).persona
    except Exception:  # noqa: BLE001 - a reply that does not parse is read as written
        return raw_text or ""


def _checked(
    text: str, *, taste: str, history: Sequence[Movie], language: str, gender: str | None
) -> list[Checked]:
    """The product's checker on a persona, as ``repair_persona`` calls it."""
    return check_text(
        text,
        subject=None,
        watched=history,
        language=language,
        persona=True,
        gender=gender,
        taste=taste,
    )


def _taste_flags(checked: list[Checked]) -> list[str]:
    """The false ``mood`` and persona ``genre`` claims, as ``"kind 'span' (why)"``."""
    return [
        f"{c.claim.kind} {c.claim.span!r} ({c.why})"
        for c in checked
        if c.ok is False and c.claim.kind in TASTE_KINDS and c.claim.movie is None
    ]


def invented_tastes(
    text: str, *, taste: str, history: Sequence[Movie], language: str, gender: str | None = None
) -> list[str]:
    """The checker's false ``mood`` and persona ``genre`` claims of a persona, as
    ``"kind 'span' (why)"``."""
    return _taste_flags(
        _checked(text, taste=taste, history=history, language=language, gender=gender)
    )


def _score_row(row: dict[str, Any], catalog: dict[int, Movie]) -> dict[str, Any]:
    from cinerec.llm.facts import split_sentences
    from cinerec.llm.persona import UserProfile, repair_persona

    history = [catalog[i] for i in row["history"]]
    raw = _raw_persona(row.get("raw_text"))
    checked = _checked(
        raw, taste=row["taste"], history=history, language=row["language"], gender=row["gender"]
    )
    flags = _taste_flags(checked)
    profile = UserProfile("Viewer", AGE, row["gender"], row["taste"], row["language"])
    shown, _, repairs, problem = repair_persona(raw, profile, history)
    mood_repairs = [r for r in repairs if r.startswith("false claim (mood ")]
    # the sentences the repair drops for holding a false mood claim
    mood_sentences = {c.claim.sentence for c in checked if c.claim.kind == "mood" and not c.ok}
    return {
        "run": row["run"],
        "page": row["page"],
        "language": row["language"],
        "taste": row["taste"],
        "raw": raw,
        "flags": flags,
        "mood_flags": [f for f in flags if f.startswith("mood ")],
        "shown": shown if problem is None else None,
        "template": problem is not None,
        "problem": problem,
        "mood_sentences_dropped": len(mood_sentences),
        "sentences": len(split_sentences(raw)),
        "mood_repairs": mood_repairs,
    }


def _ratio(k: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(k, n) if n else (None, None)
    return {"k": k, "n": n, "value": round(k / n, 3) if n else None, "wilson95": [low, high]}


def _agreement(scored: list[dict[str, Any]], labels: dict[tuple[str, int], bool], key: str) -> dict:
    pairs = [(bool(r[key]), labels[(r["run"], r["page"])]) for r in scored]
    tp = sum(1 for f, y in pairs if f and y)
    fp = sum(1 for f, y in pairs if f and not y)
    fn = sum(1 for f, y in pairs if not f and y)
    tn = sum(1 for f, y in pairs if not f and not y)
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
    }


def score(args: argparse.Namespace) -> None:
    """Score stored personas; write ``results/<out>.json`` and ``.md``."""
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    rows = _persona_rows(args.rows)
    scored = [_score_row(r, catalog) for r in rows]
    labels: dict[tuple[str, int], bool] = {}
    notes: dict[tuple[str, int], str] = {}
    if args.labels:
        for line in args.labels.read_text(encoding="utf-8").splitlines():
            lab = json.loads(line)
            labels[(lab["run"], lab["page"])] = bool(lab["invents_taste"])
            notes[(lab["run"], lab["page"])] = lab.get("note", "")
        for r in scored:
            r["hand_label"] = labels.get((r["run"], r["page"]))
            r["hand_note"] = notes.get((r["run"], r["page"]), "")
    by_language: dict[str, dict[str, Any]] = {}
    for language in sorted({r["language"] for r in scored}):
        part = [r for r in scored if r["language"] == language]
        by_language[language] = {
            "personas": len(part),
            "flagged_any": sum(bool(r["flags"]) for r in part),
            "flagged_genre_only": sum(
                any(f.startswith("genre ") for f in r["flags"]) for r in part
            ),
            "flagged_mood": sum(bool(r["mood_flags"]) for r in part),
            "hand_invents": sum(bool(r.get("hand_label")) for r in part) if labels else None,
            "mood_sentences_dropped": sum(r["mood_sentences_dropped"] for r in part),
            "personas_with_a_mood_drop": sum(r["mood_sentences_dropped"] > 0 for r in part),
            "template": sum(r["template"] for r in part),
            "template_after_a_mood_drop": sum(
                r["template"] and r["mood_sentences_dropped"] > 0 for r in part
            ),
        }
    unique = len({(r["language"], r["taste"], r["raw"]) for r in scored})
    result: dict[str, Any] = {
        "provenance": provenance(),
        "rows": [relative_arg(str(p)) for p in args.rows],
        "personas": len(scored),
        "distinct_raw_personas": unique,
        "by_language": by_language,
        "scored": scored,
    }
    if labels:
        result["labels"] = relative_arg(str(args.labels))
        result["checker_vs_hand"] = {
            "any_taste_claim": _agreement(scored, labels, "flags"),
            "mood_only": _agreement(scored, labels, "mood_flags"),
        }
    # not write_result: its with_suffix would cut a name such as "..._1.5b" at its dot
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    )
    (RESULTS / f"{args.out}.md").write_text(_markdown(result))
    print(_markdown(result))


def _cell(r: dict[str, Any]) -> str:
    return f"{r['precision']['k']}/{r['precision']['n']} = {r['precision']['value']}"


def _markdown(s: dict[str, Any]) -> str:
    lines = [
        "# Invented tastes in raw personas (fact checker `mood` and persona `genre` claims)",
        "",
        markdown_header(s["provenance"]),
        f"Rows: {', '.join(f'`{p}`' for p in s['rows'])}; {s['personas']} personas "
        f"({s['distinct_raw_personas']} distinct raw texts).",
        "",
        "| language | personas | flagged (mood or genre) | flagged by a genre | flagged by a mood "
        "| hand: invents | sentences dropped for a mood | personas with such a drop "
        "| template shown | template after a mood drop |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for language, b in s["by_language"].items():
        lines.append(
            f"| {language} | {b['personas']} | {b['flagged_any']} | {b['flagged_genre_only']} "
            f"| {b['flagged_mood']} | {b['hand_invents']} | {b['mood_sentences_dropped']} "
            f"| {b['personas_with_a_mood_drop']} | {b['template']} "
            f"| {b['template_after_a_mood_drop']} |"
        )
    if "checker_vs_hand" in s:
        lines += [
            "",
            f"Against the hand labels (`{s['labels']}`, written before the checker ran):",
            "",
            "| checker verdict | TP | FP | FN | TN | precision | recall |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, a in s["checker_vs_hand"].items():
            rec = a["recall"]
            lines.append(
                f"| {name} | {a['tp']} | {a['fp']} | {a['fn']} | {a['tn']} | {_cell(a)} "
                f"| {rec['k']}/{rec['n']} = {rec['value']} |"
            )
    lines += ["", "## Personas flagged or labelled", ""]
    for r in s["scored"]:
        if r["flags"] or r.get("hand_label"):
            label = {True: "yes", False: "no", None: "-"}[r.get("hand_label")]
            lines.append(
                f"- {r['run']} page {r['page']} ({r['language']}; hand: {label}): "
                f"{r['raw']!r} - checker: {'; '.join(r['flags']) or 'nothing'}"
            )
    return "\n".join(lines) + "\n"


def generate(args: argparse.Namespace) -> None:
    """Write personas only, with the real model, for the pages of ``--pages-from``."""
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from cinerec.config import Settings
    from cinerec.llm.backends.llamacpp import LlamaCppBackend
    from cinerec.llm.models import locate_gguf
    from cinerec.llm.persona import UserProfile, write_persona

    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    pages = [
        r for r in _persona_rows([args.pages_from]) if r["language"] in args.languages.split(",")
    ]
    per_language: dict[str, int] = {}
    chosen = []
    for r in pages:
        if per_language.get(r["language"], 0) < args.limit:
            per_language[r["language"]] = per_language.get(r["language"], 0) + 1
            chosen.append(r)
    path = locate_gguf(args.model, Settings(llm_backend="none").cache_dir)
    backend = LlamaCppBackend(
        path, n_threads=args.threads, n_ctx=4096, seed=42, model_name=args.model
    )
    backend.load()
    out = RESULTS / f"persona_taste_{args.tag}.jsonl"
    done = {r["page"] for r in _persona_rows([out])} if out.exists() else set()
    deadline = time.monotonic() + args.budget_s
    with out.open("a", encoding="utf-8") as sink:
        for r in chosen:
            if r["page"] in done:
                continue
            if time.monotonic() > deadline:
                print("time budget spent; stopping", flush=True)
                break
            history = [catalog[i] for i in r["history"]]
            profile = UserProfile("Viewer", AGE, r["gender"], r["taste"], r["language"])
            start = time.perf_counter()
            persona = write_persona(backend, profile, history, timeout_s=args.timeout)
            row = {
                **{k: r[k] for k in ("page", "kind", "language", "gender", "taste", "history")},
                "run": args.tag,
                "model": args.model,
                "threads": args.threads,
                "type": "persona",
                "raw_text": persona.raw_text,
                "text": persona.text,
                "fallback": persona.fallback,
                "repairs": list(persona.repairs),
                "seconds": round(time.perf_counter() - start, 2),
            }
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
            print(f"page {r['page']} {r['language']}: {row['seconds']} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sc = sub.add_parser("score", help="check stored raw personas (and compare with hand labels)")
    sc.add_argument("--rows", type=Path, action="append", required=True)
    sc.add_argument("--labels", type=Path, default=None)
    sc.add_argument("--out", required=True, help="results/<out>.json and .md")
    gen = sub.add_parser("generate", help="personas only, for the pages of a stored words run")
    gen.add_argument("--pages-from", type=Path, required=True)
    gen.add_argument("--model", default="qwen2.5-coder-1.5b")
    gen.add_argument("--threads", type=int, default=1)
    gen.add_argument("--languages", default="en,ko")
    gen.add_argument("--limit", type=int, default=20, help="pages per language")
    gen.add_argument("--timeout", type=float, default=120.0)
    gen.add_argument("--budget-s", type=float, default=1200.0, help="stop starting pages after")
    gen.add_argument("--tag", required=True, help="rows go to results/persona_taste_<tag>.jsonl")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args)
    else:
        score(args)


if __name__ == "__main__":
    main()
