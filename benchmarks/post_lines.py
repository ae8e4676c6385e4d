"""The one-liners of a stored post run, asked again of the real model with this commit's code.

A whole post run (``benchmarks/posts.py``: ingest, theme search, plan, one-liners, rewrites)
took 80 minutes for 12 themes on the shared 2-core machine. This replays only the one-liners:
for every movie that got a one-liner in the stored run (``--stored``, a ``posts.py`` result with
raw replies), the same theme, language and movie go through the product's first one-liner call
(:meth:`cinerec.llm.posts.compose._Writer.first_review`: the product's prompt, grammar, token
budget and checks, retried warmer once when unusable), with the post's picks as the other
candidates. Differences from the stored run: no review highlights (the catalog is read from the
data files, not an ingested home) and no rewrites for similarity. The raw replies are written in
``posts.py``'s row shape (``theme``, ``language``, ``raw_outputs``), so
``words.py report --posts`` scores them.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/post_lines.py --model qwen2.5-coder-0.5b \\
        --stored benchmarks/results/posts_rerun12_v2.json \\
        --out benchmarks/results/post_lines_v4.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*

from benchmarks.provenance import provenance  # noqa: E402
from cinerec.config import Settings  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.llm.backends.llamacpp import LlamaCppBackend  # noqa: E402
from cinerec.llm.models import locate_gguf  # noqa: E402
from cinerec.llm.posts.compose import PostConfig, _Writer  # noqa: E402
from cinerec.llm.posts.prompts import PostCandidate  # noqa: E402


def _review_ids(row: dict[str, Any]) -> list[int]:
    """The movies of a stored post that got a one-liner call, in call order, once each."""
    names = [name for name, _ in row.get("raw_outputs", []) if name.startswith("review ")]
    return list(dict.fromkeys(int(name.split()[1]) for name in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--stored", type=Path, required=True, help="a posts.py result file")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--rows",
        default="",
        help="comma-separated 0-based indices of the stored rows to replay (default: all)",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    path = locate_gguf(args.model, Settings(llm_backend="none").cache_dir)
    backend = LlamaCppBackend(
        path, n_threads=args.threads, n_ctx=4096, seed=42, model_name=args.model
    )
    backend.load()
    stored = json.loads(args.stored.read_text(encoding="utf-8"))["rows"]
    if args.rows:
        stored = [stored[int(k)] for k in args.rows.split(",")]
    done = json.loads(args.out.read_text(encoding="utf-8"))["rows"] if args.out.exists() else []
    result = {
        "config": {
            "model": args.model,
            "threads": args.threads,
            "stored": args.stored.as_posix(),
            "post_config": repr(PostConfig()),
            "command": f"OMP_NUM_THREADS=1 nice -n 10 python benchmarks/post_lines.py --model "
            f"{args.model} --threads {args.threads} --stored {args.stored.as_posix()} "
            f"--out {args.out.as_posix()}" + (f" --rows {args.rows}" if args.rows else ""),
        },
        "provenance": provenance(),
        "rows": done,
    }
    for k, row in enumerate(stored[len(done) :], len(done) + 1):
        ids = [i for i in _review_ids(row) if i in catalog]
        candidates = [PostCandidate(catalog[i], 1.0) for i in ids]
        writer = _Writer(backend, row["theme"], candidates, row["language"], PostConfig())
        start = time.perf_counter()
        lines = [writer.first_review(i) for i in ids]
        result["rows"].append(
            {
                "theme": row["theme"],
                "language": row["language"],
                "ids": ids,
                "lines": lines,
                # "" is a movie without a usable model line: the post shows the flagged
                # synopsis line there
                "fallbacks": sum(1 for line in lines if not line),
                "raw_outputs": [list(x) for x in writer.raw],
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"[{k}/{len(stored)}] {row['theme']!r}: {len(writer.raw)} calls", flush=True)


if __name__ == "__main__":
    main()
