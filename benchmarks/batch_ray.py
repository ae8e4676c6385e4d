"""Ray batch: review summaries with 1 and 2 worker processes (issue 22: 2 workers >= 1.7x).

Prepares a home once (catalog ingested into SQLite, the two review models trained), then runs
:func:`cinerec.batch.jobs.review_summaries` on the first ``--limit`` catalog movies with
reviews, alternating 1 and 2 workers ``--repeats`` times on a fresh local Ray cluster each
(summaries computed, not stored). Throughput is movies per second of the Ray part (cluster
start excluded, the workers' first imports included); the speedup is the ratio of the medians.
The load average before and after each run is recorded: the machine's cores are shared.

    nice -n 10 python benchmarks/batch_ray.py --limit 240 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402

TARGET_SPEEDUP = 1.7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=240, help="Movies summarised per run.")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shard-size", type=int, default=10)
    parser.add_argument("--home", type=Path, default=None, help="Reuse a prepared home.")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/batch_ray"))
    args = parser.parse_args()

    from cinerec.batch.cluster import ClusterConfig
    from cinerec.batch.jobs import review_summaries
    from cinerec.config import Settings
    from cinerec.data.paths import resolve_data_dir
    from cinerec.db.repository import count_movies
    from cinerec.services.ingest import ingest
    from cinerec.services.platform import Platform
    from cinerec.services.reviews import review_work

    home = args.home or Path(tempfile.mkdtemp(prefix="cinerec-batch-"))
    platform = Platform(Settings(home=home, llm_backend="none", warm_embeddings=False))
    platform.migrate()
    data_dir = resolve_data_dir(args.data_dir)
    started = time.perf_counter()
    with platform.session() as session:
        if count_movies(session) == 0:
            ingest(platform, progress=False)
    work = review_work(platform, data_dir=data_dir, limit=args.limit)  # trains when missing
    prepare_s = time.perf_counter() - started
    print(f"prepared in {prepare_s:.0f} s: {len(work.groups)} movies", flush=True)

    runs: list[dict[str, Any]] = []
    for repeat in range(args.repeats):
        for workers in args.workers:
            load_before = os.getloadavg()
            report = review_summaries(
                platform,
                data_dir=data_dir,
                cluster=ClusterConfig(workers=workers),
                limit=args.limit,
                shard_size=args.shard_size,
                store=False,
            )
            run = {
                "repeat": repeat,
                "workers": workers,
                "movies": report.items,
                "reviews": report.details["reviews"],
                "summaries": report.outputs,
                "shards": report.shards,
                "map_seconds": round(report.map_seconds, 2),
                "movies_per_second": round(report.items_per_second, 2),
                "job_seconds": round(report.seconds, 2),
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            }
            runs.append(run)
            print(json.dumps(run), flush=True)

    medians = {
        w: statistics.median(r["movies_per_second"] for r in runs if r["workers"] == w)
        for w in args.workers
    }
    summary: dict[str, Any] = {"median_movies_per_second": medians}
    if 1 in medians and 2 in medians and medians[1] > 0:
        summary["speedup_2_over_1"] = round(medians[2] / medians[1], 2)
        summary["meets_target"] = summary["speedup_2_over_1"] >= TARGET_SPEEDUP
        summary["pair_speedups"] = [
            round(b["movies_per_second"] / a["movies_per_second"], 2)
            for a, b in zip(
                [r for r in runs if r["workers"] == 1],
                [r for r in runs if r["workers"] == 2],
                strict=False,
            )
            if a["movies_per_second"] > 0
        ]
    result = {
        "provenance": provenance(),
        "setup": {
            "limit": args.limit,
            "repeats": args.repeats,
            "shard_size": args.shard_size,
            "prepare_seconds": round(prepare_s, 1),
            "cluster": "local Ray cluster per run, num_cpus = workers",
            "target_speedup": TARGET_SPEEDUP,
        },
        "runs": runs,
        "summary": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# Ray batch: review summaries with 1 and 2 worker processes",
        "",
        markdown_header(result["provenance"]),
        "| repeat | workers | movies | Ray part s | movies/s | load avg before → after |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['repeat']} | {r['workers']} | {r['movies']} | {r['map_seconds']} | "
            f"{r['movies_per_second']} | {r['loadavg_before'][0]} → {r['loadavg_after'][0]} |"
        )
    lines += ["", f"Summary: {json.dumps(summary)}", ""]
    args.out.with_suffix(".md").write_text("\n".join(lines))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
