"""A hand-read sample of one ``chat_qa.py`` run: drawn by a fixed seed, labelled by a person.

``draw`` takes ``--per-stratum`` answers of each language and kind (random.Random(seed) over
the question ids of the stratum, sorted) from ``chat_qa_TAG.rows.jsonl`` and writes one JSONL
line each: the question's turns, the answer's RAW text (the model's reply; the template or the
deterministic "the catalog does not know" where the model wrote none), whether the shown text
differs, and, to read it against, the catalog's facts for every movie the question asks about
or the answer cites by ``[#id]`` (title, year, genres, director, first cast, ratings count).
No checker's verdict is written into the file: the reader labels ``label`` (``true``: every
factual claim holds; ``false``: any claim the catalog contradicts, with ``note``;
``non_answer``: no factual claim, e.g. "the catalog does not know") blind to them.

``report`` joins the labels with the run's benchmark checker (``false_raw`` non-empty is a
flag; ``correct_raw`` is shown beside) and writes ``chat_TAG.json`` / ``.md`` under
``benchmarks/results``: the false rate with a 95% Wilson interval overall, by language and by
kind, and the checker's recall and precision on the reader's false labels.

    python benchmarks/chat_qa_sample.py draw --run 0.5b_300q_v6 --home <home> \
        --out benchmarks/data/chat_sample60_0.5b_v6.jsonl
    python benchmarks/chat_qa_sample.py report --run 0.5b_300q_v6 \
        --sample benchmarks/data/chat_sample60_0.5b_v6.jsonl --tag sample60_0.5b_v6
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.provenance import markdown_header, provenance
from cinerec.reviews.metrics import wilson_interval

RESULTS = Path(__file__).parent / "results"
KINDS = ("fact", "list", "follow_up", "compare", "unanswerable")
LANGUAGES = ("en", "ko")
LABELS = ("true", "false", "non_answer")
CITE = re.compile(r"\[\s*#\s*(\d+)\s*\]")


def load_rows(run: str) -> list[dict[str, Any]]:
    """The stored rows of ``chat_qa_RUN.rows.jsonl``."""
    path = RESULTS / f"chat_qa_{run}.rows.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def draw_ids(rows: Sequence[dict[str, Any]], per_stratum: int, seed: int) -> list[int]:
    """``per_stratum`` question ids of each language and kind, the same for the same rows.

    Example:
        >>> rows = [{"qid": i, "language": "en", "kind": "fact"} for i in range(10)]
        >>> draw_ids(rows, 3, 1) == draw_ids(list(reversed(rows)), 3, 1)
        True
        >>> len(draw_ids(rows, 3, 1))
        3
    """
    rng = random.Random(seed)
    picked: list[int] = []
    for language in LANGUAGES:
        for kind in KINDS:
            ids = sorted(r["qid"] for r in rows if r["language"] == language and r["kind"] == kind)
            picked += sorted(rng.sample(ids, min(per_stratum, len(ids))))
    return picked


def _movie_ids(row: dict[str, Any]) -> list[int]:
    gold = row["gold"]
    asked = [gold["movie"]] if gold.get("movie") else []
    asked += list(gold.get("pair", [])) + list(gold.get("exclude", []))
    cited = [int(x) for text in [*row["answers"], row["raw"]] for x in CITE.findall(text)]
    return list(dict.fromkeys([*asked, *cited]))


def draw(args: argparse.Namespace) -> None:
    from cinerec.config import Settings
    from cinerec.services.platform import Platform
    from cinerec.services.retrieval import load_catalog_movies

    rows = {r["qid"]: r for r in load_rows(args.run)}
    movies, popularity = load_catalog_movies(Platform(Settings(home=args.home, llm_backend="none")))
    by_id = {m.movie_id: m for m in movies}

    def facts(movie_id: int) -> str:
        m = by_id.get(movie_id)
        if m is None:
            return f"#{movie_id}: not a catalog movie"
        return (
            f"#{m.movie_id} {m.title} ({m.year}): {', '.join(m.genres)}; director "
            f"{m.director or '?'}; cast {', '.join(m.cast[:5]) or '?'}; "
            f"ratings {popularity.get(m.movie_id, 0)}"
        )

    with args.out.open("w", encoding="utf-8") as sink:
        for qid in draw_ids(list(rows.values()), args.per_stratum, args.seed):
            row = rows[qid]
            item = {
                "run": args.run,
                "qid": qid,
                "language": row["language"],
                "kind": row["kind"],
                "turns": row["turns"],
                "earlier_answers": row["answers"][:-1],
                "raw": row["raw"],
                "model_written_raw": bool(row["model_written"] or row["fallback"]),
                "shown_differs": row["shown"] != row["raw"],
                "catalog": [facts(i) for i in _movie_ids(row)],
                "label": None,
                "note": "",
            }
            sink.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{args.per_stratum * len(KINDS) * len(LANGUAGES)} answers -> {args.out}")


def _rate(k: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"k": 0, "n": 0, "rate": None, "ci95": None}
    lo, hi = wilson_interval(k, n)
    return {"k": k, "n": n, "rate": round(k / n, 4), "ci95": [round(lo, 4), round(hi, 4)]}


def summarize(items: Sequence[dict[str, Any]], rows: dict[int, dict[str, Any]]) -> dict:
    """False rates by cell, and the checker's agreement with the reader's false labels.

    Example:
        >>> items = [{"qid": 1, "language": "en", "kind": "fact", "label": "false"},
        ...          {"qid": 2, "language": "ko", "kind": "fact", "label": "true"}]
        >>> rows = {1: {"false_raw": ["x"], "correct_raw": False, "false_shown": []},
        ...         2: {"false_raw": ["y"], "correct_raw": True, "false_shown": []}}
        >>> s = summarize(items, rows)
        >>> s["false"]["all"]["k"], s["checker"]["recall"]["k"], s["checker"]["precision"]["k"]
        (1, 1, 1)
    """
    cells: dict[str, dict[str, Any]] = {}
    groups = {"all": list(items)}
    for language in LANGUAGES:
        groups[language] = [i for i in items if i["language"] == language]
    for kind in KINDS:
        groups[kind] = [i for i in items if i["kind"] == kind]
        for language in LANGUAGES:
            groups[f"{kind}/{language}"] = [
                i for i in items if i["kind"] == kind and i["language"] == language
            ]
    for name, group in groups.items():
        cells[name] = _rate(sum(i["label"] == "false" for i in group), len(group))
        cells[name]["non_answer"] = sum(i["label"] == "non_answer" for i in group)
    flagged = [i for i in items if rows[i["qid"]]["false_raw"]]
    false = [i for i in items if i["label"] == "false"]
    return {
        "labelled": len(items),
        "labels": {x: sum(i["label"] == x for i in items) for x in LABELS},
        "false": cells,
        "checker": {
            "recall": _rate(sum(bool(rows[i["qid"]]["false_raw"]) for i in false), len(false)),
            "precision": _rate(sum(i["label"] == "false" for i in flagged), len(flagged)),
            "flagged_judged_true": [
                {"qid": i["qid"], "flags": rows[i["qid"]]["false_raw"]}
                for i in flagged
                if i["label"] != "false"
            ],
            "missed": [
                {
                    "qid": i["qid"],
                    "note": i.get("note", ""),
                    "correct_raw": rows[i["qid"]]["correct_raw"],
                }
                for i in false
                if not rows[i["qid"]]["false_raw"]
            ],
            "false_but_correct_raw": sum(bool(rows[i["qid"]]["correct_raw"]) for i in false),
        },
        "shown_false_by_reader": [
            {"qid": i["qid"], "note": i.get("note", "")} for i in false if i.get("shown_also_false")
        ],
        "false_items": [
            {
                "qid": i["qid"],
                "language": i["language"],
                "kind": i["kind"],
                "note": i.get("note", ""),
            }
            for i in false
        ],
    }


def _fmt(r: dict[str, Any]) -> str:
    if not r["n"]:
        return "-"
    return f"{r['k']}/{r['n']} = {r['rate']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"


def report(args: argparse.Namespace) -> None:
    rows = {r["qid"]: r for r in load_rows(args.run)}
    lines = [json.loads(x) for x in args.sample.read_text(encoding="utf-8").splitlines() if x]
    items = [i for i in lines if i.get("label") in LABELS]
    summary = summarize(items, rows)
    record = provenance(
        sys.argv if args.argv is None else ["benchmarks/chat_qa_sample.py", *args.argv]
    )
    out = {"run": args.run, "sample": str(args.sample), "provenance": record, **summary}
    stem = f"chat_{args.tag}"
    (RESULTS / f"{stem}.json").write_text(
        json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    md = [
        f"# Hand-read chat answers: run `chat_qa_{args.run}`",
        "",
        markdown_header(record),
        f"{summary['labelled']} raw answers labelled: {summary['labels']}.",
        "",
        "| cell | false by the reader [95% Wilson] | non-answers |",
        "|---|---|---|",
    ]
    md += [f"| {name} | {_fmt(c)} | {c['non_answer']} |" for name, c in summary["false"].items()]
    ch = summary["checker"]
    md += [
        "",
        f"Benchmark checker (`false_raw`) on the reader's labels: recall {_fmt(ch['recall'])}, "
        f"precision {_fmt(ch['precision'])}; reader-false answers the benchmark's correctness "
        f"rule passed: {ch['false_but_correct_raw']}.",
        "",
        "## False by the reader",
        "",
    ]
    md += [
        f"- q{i['qid']} ({i['kind']}/{i['language']}): {i['note']}" for i in summary["false_items"]
    ]
    md += ["", "## Flagged by the checker, judged not false", ""]
    md += [f"- q{i['qid']}: {i['flags']}" for i in ch["flagged_judged_true"]]
    (RESULTS / f"{stem}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("draw", help="draw the sample (labels left empty)")
    d.add_argument("--run", required=True, help="tag of the chat_qa run")
    d.add_argument("--home", type=Path, required=True, help="the run's ingested home")
    d.add_argument("--per-stratum", type=int, default=6, help="answers per language and kind")
    d.add_argument("--seed", type=int, default=21)
    d.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("report", help="rates and checker agreement of a labelled sample")
    r.add_argument("--run", required=True)
    r.add_argument("--sample", type=Path, required=True)
    r.add_argument("--tag", required=True, help="results: benchmarks/results/chat_TAG.json/.md")
    args = parser.parse_args(argv)
    args.argv = None if argv is None else list(argv)
    draw(args) if args.command == "draw" else report(args)


if __name__ == "__main__":
    main()
