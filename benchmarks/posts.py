"""Curated posts over many themes with the real embedded model: validity, grounding, distinctness.

For each theme of ``benchmarks/data/post_themes.json`` (100: half English, half Korean,
interleaved) it writes a 5-movie post through the product path (:func:`make_post`: embedding
search + popularity/quality prior, schema-constrained generation, validation, retries,
rewrites) and checks the result independently:

* schema-valid: the post re-validates as :class:`~cinerec.llm.posts.Post` (caption of exactly
  three non-empty lines, unique ids, non-empty one-line reviews within the length bound) and
  has the asked number of movies; a failed post counts as not valid;
* non-catalog titles: a title that is not the catalog title of its id (must be 0);
* retries: whole-post attempts beyond the first, one-liner calls (fills + rewrites);
* distinctness: mean pairwise one-liner similarity before and after rewriting;
* seconds per post (only comparable on a quiet machine: report the command, not the number).

Run from the repository root, on one thread, niced (the CPU is shared)::

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/posts.py --model qwen2.5-coder-0.5b --limit 100
    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/posts.py --model qwen2.5-coder-1.5b --limit 10

Results: ``benchmarks/results/posts.json`` (per theme, written as it goes, with the
configuration) and ``posts.md`` (``--out`` changes both; the stem gets the model otherwise
kept apart with ``--tag``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from cinerec.config import Settings
from cinerec.db import repository as repo
from cinerec.db.tables import MovieRow
from cinerec.evaluation.bootstrap import bootstrap_ci
from cinerec.llm.posts import Post, PostConfig
from cinerec.services.ingest import ingest
from cinerec.services.platform import Platform
from cinerec.services.posts import ThemeConfig, make_post
from cinerec.text.metrics import wilson_interval

ROOT = Path(__file__).resolve().parent


def _ready_platform(args: argparse.Namespace) -> Platform:
    home = args.home or Path(tempfile.mkdtemp(prefix="cinerec-posts-"))
    settings = Settings(
        home=home,
        llm_model=args.model,
        llm_threads=args.threads,
        llm_timeout_s=args.timeout,
        embedder=args.embedder,
    )
    platform = Platform(settings)
    platform.migrate()
    with platform.session() as session:
        empty = repo.count_movies(session) == 0
    if empty:
        ingest(platform, progress=False)
    return platform


def _relative(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (no machine paths in results)."""
    try:
        return str(path.resolve().relative_to(ROOT.parent))
    except ValueError:
        return path.name


def _check(post: Post | None, n: int, titles: dict[int, str]) -> tuple[bool, list[str]]:
    """(schema-valid, non-catalog titles) of one post, checked independently of the flow."""
    if post is None:
        return False, []
    try:
        again = Post.model_validate_json(post.model_dump_json())
    except ValueError:
        return False, []
    lines = again.caption.split("\n")
    valid = (
        len(lines) == 3
        and all(line.strip() for line in lines)
        and len(again.movies) == n
        and len({m.id for m in again.movies}) == n
        and all(m.one_line_review.strip() for m in again.movies)
    )
    wrong = [m.title for m in again.movies if titles.get(m.id) != m.title]
    return valid, wrong


def _ci(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ci = bootstrap_ci(np.array(values, dtype=float), resamples=2000, seed=0)
    return {"mean": round(ci.mean, 4), "low": round(ci.low, 4), "high": round(ci.high, 4)}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates with Wilson intervals, means with bootstrap intervals, per language and overall."""
    out: dict[str, Any] = {}
    for name, part in (
        ("all", rows),
        ("en", [r for r in rows if r["language"] == "en"]),
        ("ko", [r for r in rows if r["language"] == "ko"]),
    ):
        if not part:
            continue
        valid = sum(r["schema_valid"] for r in part)
        low, high = wilson_interval(valid, len(part))
        ok = [r for r in part if r["published"]]
        seconds = [r["seconds"] for r in part]
        out[name] = {
            "posts": len(part),
            "schema_valid": valid,
            "schema_valid_rate": round(valid / len(part), 4),
            "schema_valid_ci95": [round(low, 4), round(high, 4)],
            "failures": len(part) - len(ok),
            "non_catalog_titles": sum(len(r["non_catalog_titles"]) for r in part),
            "posts_retried": sum(r["attempts"] > 1 for r in part),
            "extra_attempts": sum(max(r["attempts"] - 1, 0) for r in part),
            "review_calls": sum(r["review_calls"] for r in part),
            "rewritten_one_liners": sum(r["rewritten"] for r in ok),
            "synopsis_one_liners": sum(r["synopsis_reviews"] for r in ok),
            "similarity_before": _ci([r["similarity_before"] for r in ok]),
            "similarity_after": _ci([r["similarity_after"] for r in ok]),
            "seconds_mean": round(statistics.fmean(seconds), 1),
            "seconds_p50": round(statistics.median(seconds), 1),
            "seconds_max": round(max(seconds), 1),
        }
    return out


def _markdown(result: dict[str, Any]) -> str:
    cfg, summary = result["config"], result["summary"]
    lines = [
        "# Curated posts benchmark",
        "",
        f"Model `{cfg['model']}`, {cfg['threads']} thread(s), embedder `{cfg['embedder']}`, "
        f"{cfg['n']} movies a post, {summary.get('all', {}).get('posts', 0)} themes "
        f"(`{cfg['themes']}`). Machine: {cfg['machine']}. Command: `{cfg['command']}`",
        "",
        "| | posts | schema-valid (95% CI) | failures | non-catalog titles | retried posts "
        "| one-liner calls | similarity before -> after (95% CI) | s/post p50 (mean) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        before, after = s["similarity_before"], s["similarity_after"]
        sim = (
            f"{before['mean']:.3f} [{before['low']:.3f}, {before['high']:.3f}] -> "
            f"{after['mean']:.3f} [{after['low']:.3f}, {after['high']:.3f}]"
            if before
            else "-"
        )
        lines.append(
            f"| {name} | {s['posts']} | {s['schema_valid_rate']:.2f} "
            f"[{s['schema_valid_ci95'][0]:.2f}, {s['schema_valid_ci95'][1]:.2f}] | "
            f"{s['failures']} | {s['non_catalog_titles']} | {s['posts_retried']} | "
            f"{s['review_calls']} ({s['rewritten_one_liners']} rewrites, "
            f"{s['synopsis_one_liners']} from synopsis) | {sim} | "
            f"{s['seconds_p50']} ({s['seconds_mean']}) |"
        )
    failed = [r for r in result["rows"] if not r["published"]]
    if failed:
        lines += ["", "## Failures", ""]
        lines += [f"- `{r['theme']}`: {'; '.join(r['problems'][-2:])}" for r in failed]
    examples = [r for r in result["rows"] if r["published"]][:4]
    if examples:
        lines += ["", "## Examples", ""]
        for r in examples:
            lines.append(f"**{r['theme']}**: " + " / ".join(r["post"]["caption"].split("\n")))
            lines += [f"- {m['title']}: {m['one_line_review']}" for m in r["post"]["movies"]]
            lines.append("")
    lines += [
        "",
        "Seconds were measured on a shared 2-core machine; re-run the command on a quiet one "
        "for latency.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--limit", type=int, default=100, help="First N themes (interleaved).")
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--embedder", default="fast-use")
    parser.add_argument("--themes", type=Path, default=ROOT / "data" / "post_themes.json")
    parser.add_argument("--home", type=Path, default=None, help="An ingested home (else temp).")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "posts.json")
    parser.add_argument(
        "--resume", action="store_true", help="Keep the rows already in --out (same model)."
    )
    args = parser.parse_args()

    themes = json.loads(args.themes.read_text(encoding="utf-8"))["themes"][: args.limit]
    platform = _ready_platform(args)
    with platform.session() as session:
        titles = {int(i): str(t) for i, t in session.execute(select(MovieRow.id, MovieRow.title))}
    config = {
        "model": args.model,
        "threads": args.threads,
        "embedder": args.embedder,
        "n": args.n,
        "themes": _relative(args.themes),
        "post_config": repr(PostConfig(timeout_s=args.timeout)),
        "theme_config": repr(ThemeConfig()),
        "machine": f"{host.machine()}, {os.cpu_count()} CPUs",
        "command": f"OMP_NUM_THREADS=1 nice -n 10 python benchmarks/posts.py --model {args.model} "
        f"--limit {args.limit} --n {args.n} --threads {args.threads}",
    }
    rows: list[dict[str, Any]] = []
    if args.resume and args.out.exists():
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        if previous["config"]["model"] == args.model and previous["config"]["n"] == args.n:
            rows = [r for r in previous["rows"] if r["theme"] in themes]
    done = {r["theme"] for r in rows}
    backend = platform.llm
    if backend is not None and hasattr(backend, "load"):
        backend.load()  # load time is not a post's time
    for k, theme in enumerate(themes, 1):
        if theme in done:
            continue
        start = time.perf_counter()
        outcome = make_post(platform, theme, n=args.n)
        seconds = time.perf_counter() - start
        valid, wrong = _check(outcome.post, args.n, titles)
        d = outcome.draft
        rows.append(
            {
                "theme": theme,
                "language": outcome.language,
                "published": outcome.ok,
                "schema_valid": valid,
                "non_catalog_titles": wrong,
                "attempts": d.attempts,
                "review_calls": d.review_calls,
                "rewritten": d.rewritten,
                "synopsis_reviews": d.synopsis_reviews,
                "similarity_before": d.similarity_before,
                "similarity_after": d.similarity_after,
                "seconds": round(seconds, 2),
                "problems": list(d.problems),
                "post": outcome.post.model_dump() if outcome.post else None,
            }
        )
        print(
            f"[{k}/{len(themes)}] {theme!r}: valid={valid} attempts={d.attempts} "
            f"calls={d.review_calls} sim {d.similarity_before:.2f}->{d.similarity_after:.2f} "
            f"{seconds:.1f}s",
            flush=True,
        )
        result = {"config": config, "summary": summarize(rows), "rows": rows}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", "utf-8")
        args.out.with_suffix(".md").write_text(_markdown(result), "utf-8")
    print(json.dumps(summarize(rows), indent=1))


if __name__ == "__main__":
    main()
