"""cinerec's recommenders and the peer libraries as shipped, in one run on one split.

Every model, ours and the peers (``peer_models.py``), goes through the same harness: the same
split, full ranking over the catalog with the history excluded, the same metric code and
per-user bootstrap. The run writes the harness's ``result.json`` / ``report.md`` and a
side-by-side ``peers.md``: NDCG@10, R@10, train time, inference time per user, and the ratios
of each cinerec model to each peer (NDCG@10 and train time).

Usage (from the repository root, in a virtual environment with
``benchmarks/requirements-peers.txt``)::

    python benchmarks/peers.py --protocol loo --models popularity,ease,sasrec \
        --peers implicit-als,implicit-bpr,lightfm-warp,recbole-sasrec,recbole-bert4rec \
        --out runs/peers_loo
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from factory import build_any
from peer_models import PEERS, build_peer
from provenance import write_provenance

from cinerec.data.paths import resolve_data_dir
from cinerec.evaluation.commands import parse_models
from cinerec.evaluation.harness import HarnessOptions, run_evaluation
from cinerec.evaluation.protocols import build_task
from cinerec.recommenders.base import TrainingOptions


def _cell(value: dict[str, float]) -> str:
    return f"{value['mean']:.4f} [{value['low']:.4f}, {value['high']:.4f}]"


def side_by_side(result: dict[str, Any], peers: list[str], part: str = "test") -> str:
    """The Markdown table: every model's numbers, then each of ours over each peer."""
    models = result["models"]
    lines = [
        f"Protocol `{result['protocol']}` on {result['dataset']}, part `{part}`, "
        f"data fingerprint `{result['data_fingerprint']}`; 95% per-user bootstrap intervals.",
        "",
        "| model | NDCG@10 | R@10 | P@10 | AUC | train s | ms/user |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, model in models.items():
        scores = model["results"][part]
        lines.append(
            f"| {key} | {_cell(scores['ndcg@10'])} | {_cell(scores['recall@10'])} | "
            f"{scores['precision@10']['mean']:.4f} | {scores['auc']['mean']:.4f} | "
            f"{model['fit_seconds']:.1f} | {scores['inference_ms_per_user']:.2f} |"
        )
    ours = [k for k in models if k not in peers]
    present = [p for p in peers if p in models]
    if ours and present:
        lines += [
            "",
            "Ratios, cinerec model / peer: NDCG@10 (train time).",
            "",
            "| cinerec | " + " | ".join(present) + " |",
            "|---|" + "---|" * len(present),
        ]
        for key in ours:
            mine = models[key]
            cells = []
            for peer in present:
                theirs = models[peer]
                ndcg = (
                    mine["results"][part]["ndcg@10"]["mean"]
                    / theirs["results"][part]["ndcg@10"]["mean"]
                )
                fit = mine["fit_seconds"] / max(theirs["fit_seconds"], 1e-9)
                cells.append(f"{ndcg:.2f}x ({fit:.2f}x)")
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="loo", choices=["loo", "ml100k", "coldstart"])
    parser.add_argument("--models", default="popularity,ease,sasrec", help="cinerec models")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--configs", default=None, help='JSON, e.g. {"sasrec": {"epochs": 20}}')
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--part", default=None, help="test set of the table (default: test, k=3)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    peers = [p for p in args.peers.split(",") if p]
    unknown = sorted(set(peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown peers {unknown}; known: {', '.join(PEERS)}")
    names = ",".join([m for m in args.models.split(",") if m] + peers)
    specs = parse_models(names, args.configs)
    task = build_task(args.protocol, resolve_data_dir(), seed=args.seed)

    def build(name: str, config: Any) -> Any:
        return build_peer(name, config, task) if name in PEERS else build_any(name, config)

    options = HarnessOptions(
        resamples=args.resamples, training=TrainingOptions(seed=args.seed, threads=args.threads)
    )
    result = run_evaluation(task, specs, out_dir=args.out, options=options, build=build)
    part = args.part or next(p for p in ("test", "k=3", *task.test_sets) if p in task.test_sets)
    table = side_by_side(result, peers, part)
    (args.out / "peers.md").write_text(table)
    (args.out / "peers.json").write_text(json.dumps(result["models"], indent=2) + "\n")
    write_provenance(args.out / "provenance.json")
    print(table)


if __name__ == "__main__":
    main()
