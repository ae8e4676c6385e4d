"""Run cinerec's recommenders on one evaluation protocol; writes result.json and report.md.

Usage (from the repository root):

    python benchmarks/run_protocols.py --protocol loo --models popularity,als,ease,bpr,sasrec \
        --out runs/loo

Same as ``cinerec evaluate``, but it can also build models that are not registered yet
(see ``factory.py``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from factory import build_any
from provenance import write_provenance

from cinerec.evaluation.commands import evaluate_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="loo", choices=["loo", "ml100k", "coldstart"])
    parser.add_argument("--models", default="popularity,als,ease,bpr,sasrec")
    parser.add_argument("--configs", default=None, help='JSON, e.g. {"sasrec": {"epochs": 20}}')
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for line in evaluate_command(
        protocol=args.protocol,
        models=args.models,
        configs=args.configs,
        out_dir=args.out,
        seed=args.seed,
        threads=args.threads,
        resamples=args.resamples,
        build=build_any,
    ):
        print(line)
    write_provenance(args.out / "provenance.json")


if __name__ == "__main__":
    main()
