"""The personas of stored words pages, asked again of the real model with this commit's code.

``benchmarks/words.py generate`` writes a persona per page (profile "Viewer", 30, the page's
gender, taste and ticked movies) before its reasons; a page took about a minute on the shared
machine. This replays only the personas of the chosen ``--pages`` of a stored rows file
(``--stored``, a ``words_<tag>.jsonl``) through :func:`cinerec.llm.persona.write_persona`, the
same profile and history, and stores the raw reply, the shown text, the repairs and whether
the template was used (flagged), so a before/after pair compares the same inputs.
``--rescore`` runs the stored raw replies of ``--out`` through this commit's repair again (no
model: the reply is replayed through :func:`write_persona`) and stores ``rescored_text``,
``rescored_fallback`` and ``rescored_repairs`` beside, with this commit's provenance.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/persona_replay.py \\
        --model qwen2.5-coder-0.5b --stored benchmarks/results/words_0.5b_v4.jsonl \\
        --pages 0,4,5,6 --out benchmarks/results/persona_replay_<tag>.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*

from benchmarks.provenance import provenance  # noqa: E402
from cinerec.config import Settings  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.llm.backends.base import Completion  # noqa: E402
from cinerec.llm.backends.llamacpp import LlamaCppBackend  # noqa: E402
from cinerec.llm.models import locate_gguf  # noqa: E402
from cinerec.llm.persona import UserProfile, write_persona  # noqa: E402


@dataclass
class _Replay:
    """A backend that answers the stored raw reply (for ``--rescore``)."""

    text: str
    model: str = "replay"
    supports_schema: bool = True
    name: str = "replay"

    def complete(self, *args: object, **kwargs: object) -> Completion:
        return Completion(self.text, self.model)


def rescore(out: Path, catalog: dict) -> None:
    """The stored raw replies through this commit's repair (see the module docstring)."""
    result = json.loads(out.read_text(encoding="utf-8"))
    for row in result["rows"]:
        profile = UserProfile("Viewer", 30, row["gender"], row["taste"], row["language"])
        history = [catalog[i] for i in row["history"] if i in catalog]
        persona = write_persona(_Replay(row["raw_text"] or ""), profile, history)
        row["rescored_text"] = persona.text
        row["rescored_fallback"] = persona.fallback
        row["rescored_repairs"] = list(persona.repairs)
    result["rescored"] = provenance()
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--stored", type=Path, required=True, help="a words.py rows file")
    parser.add_argument("--pages", required=True, help="comma-separated page numbers")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rescore", action="store_true", help="re-run the repair, no model")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if args.rescore:
        rescore(args.out, {m.movie_id: m for m in load_catalog(resolve_data_dir())})
        return
    pages = [int(p) for p in args.pages.split(",")]
    stored = {
        r["page"]: r
        for line in args.stored.read_text(encoding="utf-8").splitlines()
        if line.strip() and (r := json.loads(line))["type"] == "persona"
    }
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    path = locate_gguf(args.model, Settings(llm_backend="none").cache_dir)
    backend = LlamaCppBackend(
        path, n_threads=args.threads, n_ctx=4096, seed=42, model_name=args.model
    )
    backend.load()
    done = json.loads(args.out.read_text(encoding="utf-8"))["rows"] if args.out.exists() else []
    result = {
        "config": {
            "model": args.model,
            "threads": args.threads,
            "stored": args.stored.as_posix(),
            "command": f"OMP_NUM_THREADS=1 nice -n 10 python benchmarks/persona_replay.py "
            f"--model {args.model} --threads {args.threads} --stored {args.stored.as_posix()} "
            f"--pages {args.pages} --out {args.out.as_posix()}",
        },
        "provenance": provenance(),
        "rows": done,
    }
    for page in pages[len(done) :]:
        row = stored[page]
        profile = UserProfile("Viewer", 30, row["gender"], row["taste"], row["language"])
        history = [catalog[i] for i in row["history"] if i in catalog]
        start = time.perf_counter()
        persona = write_persona(backend, profile, history, timeout_s=args.timeout)
        result["rows"].append(
            {
                "page": page,
                "kind": row["kind"],
                "language": row["language"],
                "gender": row["gender"],
                "taste": row["taste"],
                "history": row["history"],
                "raw_text": persona.raw_text,
                "text": persona.text,
                "fallback": persona.fallback,
                "cleaned": persona.cleaned,
                "repairs": list(persona.repairs),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"page {page}: {persona.text[:100]!r}", flush=True)


if __name__ == "__main__":
    main()
