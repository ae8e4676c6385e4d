"""Personas before and after a change, read blind by hand: raw and shown false, with intervals.

Two ``persona_replay.py`` files of the same pages (``--runs name=path``, two of them) are
joined page by page.

``blind`` writes every persona of both runs in a seeded shuffle, with an opaque id and no run
name, beside the facts a reader needs (the taste text, the ticked movies with their genres,
director, first cast and year), and a key (id -> run, page) to a separate file. The reader
labels each raw reply and each shown text (``raw_false``, ``shown_false``, ``note``) without
knowing which run wrote it, and without any checker.

``report`` joins the labels with the key and writes a table per run: raw and shown false by the
reader (95 % Wilson intervals), the flagged template fallbacks, the shown texts with a sentence
the product added (the evidence's avoid sentence), the independent persona checker
(:mod:`benchmarks.checks.persona_text`: cut, pronoun, gender word, tag, glued word) on the raw
text, the product's own fact checker on the raw text beside, and the paired change on the same
pages (exact McNemar test).

    python benchmarks/persona_evidence.py blind --runs before=A.json --runs after=B.json \\
        --seed 11 --out /tmp/persona_blind.jsonl --key /tmp/persona_key.json
    python benchmarks/persona_evidence.py report --runs before=A.json --runs after=B.json \\
        --labels /tmp/persona_blind_labels.jsonl --key /tmp/persona_key.json \\
        --gold benchmarks/data/persona_labels_evidence_1.5b.jsonl \\
        --out benchmarks/results/persona_evidence_1.5b
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*

from benchmarks.checks import persona_text  # noqa: E402
from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.llm.facts import check_text  # noqa: E402


def _runs(specs: list[str]) -> dict[str, list[dict[str, Any]]]:
    runs = {}
    for spec in specs:
        name, path = spec.split("=", 1)
        runs[name] = json.loads(Path(path).read_text(encoding="utf-8"))["rows"]
    return runs


def _pages(runs: dict[str, list[dict[str, Any]]]) -> list[int]:
    """The pages every run has."""
    sets = [{r["page"] for r in rows} for rows in runs.values()]
    return sorted(set.intersection(*sets))


def _ticked(history: list[int], catalog: dict) -> list[str]:
    out = []
    for movie_id in history:
        m = catalog.get(movie_id)
        if m is None:
            continue
        people = f"director {m.director or '?'}; cast {', '.join(m.cast[:5]) or '?'}"
        out.append(f"{m.display_title}: {', '.join(m.genres)}; {people}")
    return out


def blind(args: argparse.Namespace) -> None:
    runs = _runs(args.runs)
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    items = []
    for page in _pages(runs):
        for name, rows in runs.items():
            row = next(r for r in rows if r["page"] == page)
            items.append((name, row))
    random.Random(args.seed).shuffle(items)
    key = {}
    with args.out.open("w", encoding="utf-8") as out:
        for k, (name, row) in enumerate(items):
            blind_id = f"p{k:03d}"
            key[blind_id] = {"run": name, "page": row["page"]}
            item = {
                "id": blind_id,
                "language": row["language"],
                "gender": row["gender"],
                "taste": row["taste"],
                "ticked": _ticked(row["history"], catalog),
                "raw": persona_text.reply_persona(row["raw_text"]) or row["raw_text"],
                "shown": row["text"],
                "shown_is_template": row["fallback"],
            }
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    args.key.write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
    print(f"{len(items)} personas -> {args.out}; key -> {args.key}")


def _rate(k: int, n: int) -> str:
    lo, hi = persona_text.wilson(k, n)
    return f"{k}/{n} = {k / n:.2f} [{lo:.2f}, {hi:.2f}]" if n else "0/0"


def mcnemar(b: int, c: int) -> float:
    """Exact two-sided McNemar p for ``b`` and ``c`` discordant pairs."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def _checks(row: dict[str, Any], catalog: dict) -> dict[str, Any]:
    raw = persona_text.reply_persona(row["raw_text"])
    language = row["language"]
    gender = row["gender"] if row["gender"] in ("male", "female") else None
    history = [catalog[i] for i in row["history"] if i in catalog]
    checked = check_text(
        raw or "", subject=None, watched=history, language=language, persona=True,
        gender=gender, taste=row["taste"],
    )  # fmt: skip
    return {
        "reply_ok": raw is not None,
        "cut": raw is not None and not persona_text.ends_at_sentence(raw, language),
        "pronoun": bool(persona_text.pronoun_errors(raw, row["gender"])),
        "gender_word": bool(persona_text.gender_words(raw)),
        "tag": bool(persona_text.tags(raw)),
        "glued": bool(persona_text.glued_words(raw)),
        "product_checker_false": any(c.ok is False for c in checked),
        "added_sentence": any(r.startswith("added the evidence") for r in row["repairs"]),
    }


def report(args: argparse.Namespace) -> None:
    runs = _runs(args.runs)
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    key = json.loads(args.key.read_text(encoding="utf-8"))
    labels = [json.loads(x) for x in args.labels.read_text(encoding="utf-8").splitlines() if x]
    by_run: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in runs}
    gold = []
    for label in labels:
        where = key[label["id"]]
        row = next(r for r in runs[where["run"]] if r["page"] == where["page"])
        by_run[where["run"]][where["page"]] = label
        gold.append(
            {
                "id": f"{where['run']}/page{where['page']}",
                "run": where["run"],
                "page": where["page"],
                "kind": row.get("kind"),
                "language": row["language"],
                "taste": row["taste"],
                "raw": row["raw_text"],
                "shown": row["text"],
                "fallback": row["fallback"],
                "raw_false": bool(label["raw_false"]),
                "shown_false": bool(label["shown_false"]),
                "note": label.get("note", ""),
                "labeller": label.get("labeller", ""),
            }
        )
    gold.sort(key=lambda g: (g["run"], g["page"]))
    if args.gold:
        args.gold.write_text(
            "".join(json.dumps(g, ensure_ascii=False) + "\n" for g in gold), encoding="utf-8"
        )
    pages = [p for p in _pages(runs) if all(p in by_run[name] for name in runs)]
    shas = {
        spec.split("=", 1)[0]: json.loads(Path(spec.split("=", 1)[1]).read_text("utf-8"))[
            "provenance"
        ]["git_sha"]
        for spec in args.runs
    }
    table = []
    for name, rows in runs.items():
        mine = [r for r in rows if r["page"] in pages]
        checks = [_checks(r, catalog) for r in mine]
        labels_of = [by_run[name][r["page"]] for r in mine]
        n = len(mine)
        table.append(
            {
                "run": name,
                "pages": n,
                "korean": sum(r["language"] == "ko" for r in mine),
                "red_team": sum(r.get("kind") not in (None, "ordinary") for r in mine),
                "raw_false": sum(bool(x["raw_false"]) for x in labels_of),
                "shown_false": sum(bool(x["shown_false"]) for x in labels_of),
                "fallbacks": sum(r["fallback"] for r in mine),
                "product_repaired": sum(bool(r["repairs"]) for r in mine),
                **({f: sum(c[f] for c in checks) for f in checks[0]} if checks else {}),
                "seconds_p50": sorted(r["seconds"] for r in mine)[n // 2] if n else None,
                "commit": shas[name],
            }
        )
    names = list(runs)
    paired = {}
    if len(names) == 2:
        a, b = names
        for field in ("raw_false", "shown_false"):
            worse = sum(not by_run[a][p][field] and bool(by_run[b][p][field]) for p in pages)
            better = sum(bool(by_run[a][p][field]) and not by_run[b][p][field] for p in pages)
            paired[field] = {"fixed": better, "broken": worse, "p": mcnemar(better, worse)}
    record = {
        "provenance": provenance(),
        "runs": {spec.split("=", 1)[0]: spec.split("=", 1)[1] for spec in args.runs},
        "pages": pages,
        "table": table,
        "paired": paired,
        "false_notes": [f"{g['id']} ({g['language']}): {g['note']}" for g in gold
                        if g["raw_false"] or g["shown_false"]],
    }  # fmt: skip
    Path(f"{args.out}.json").write_text(
        json.dumps(record, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )
    lines = [markdown_header(record["provenance"]), ""]
    lines += [
        f"Pages {pages[0]}-{pages[-1]} of the stored words run ({len(pages)}), each persona "
        "read blind by hand (run names hidden, seeded shuffle).",
        "",
        "| run (commit) | personas (ko, red-team) | raw false by the reader | shown false "
        "| flagged template | shown with the added avoid sentence | product repaired | raw cut "
        "| raw pronoun / gender word / tag | raw glued word | product checker false (raw) "
        "| s p50 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in table:
        lines.append(
            f"| {t['run']} ({(t['commit'] or '?')[:7]}) | {t['pages']} ({t['korean']}, "
            f"{t['red_team']}) "
            f"| {_rate(t['raw_false'], t['pages'])} | {_rate(t['shown_false'], t['pages'])} "
            f"| {_rate(t['fallbacks'], t['pages'])} | {t['added_sentence']} "
            f"| {t['product_repaired']} | {t['cut']} "
            f"| {t['pronoun']} / {t['gender_word']} / {t['tag']} | {t['glued']} "
            f"| {t['product_checker_false']} | {t['seconds_p50']} |"
        )
    for field, p in paired.items():
        lines.append(
            f"\nPaired ({names[0]} -> {names[1]}, same pages), {field}: {p['fixed']} pages "
            f"fixed, {p['broken']} broken, exact McNemar p = {p['p']:.4f}."
        )
    lines += ["", "False by the reader:", ""]
    lines += [f"- {note}" for note in record["false_notes"]] or ["- none"]
    Path(f"{args.out}.md").write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("blind")
    b.add_argument("--runs", action="append", required=True, help="name=persona_replay file")
    b.add_argument("--seed", type=int, default=11)
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--key", type=Path, required=True)
    r = sub.add_parser("report")
    r.add_argument("--runs", action="append", required=True, help="name=persona_replay file")
    r.add_argument("--labels", type=Path, required=True, help="the reader's blind labels")
    r.add_argument("--key", type=Path, required=True)
    r.add_argument("--gold", type=Path, help="writes the unblinded labels here (jsonl)")
    r.add_argument("--out", type=Path, required=True, help="writes <out>.json and .md")
    args = parser.parse_args()
    blind(args) if args.command == "blind" else report(args)


if __name__ == "__main__":
    main()
