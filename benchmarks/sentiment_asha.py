"""Ray Tune ASHA search for the fine-tuned MiniLM sentiment model, on validation only.

Run from the repository root (a local Ray on this machine; ``--address auto`` for a cluster)::

    python benchmarks/sentiment_asha.py --samples 6 --max-epochs 3

Trials draw the learning rate log-uniformly from [5e-6, 1e-3], the batch size from 8/16/32 and
gradient accumulation from 1/2; each trains at most ``--max-epochs`` epochs on ``--train``
sampled IMDB training reviews with early stopping (patience 2) and reports validation accuracy
after each epoch; ASHA (grace period 1, reduction factor 2) stops the weaker trials early. The
test split is never read. Results: ``results/sentiment_asha.{csv,md,json}``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from provenance import markdown_header, provenance

from cinerec.data.paths import resolve_data_dir
from cinerec.reviews.sentiment.tuning import SearchConfig, asha_search, table_markdown
from cinerec.reviews.transformer import TransformerConfig
from cinerec.reviews.workflow import load_corpus

ROOT = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--train", type=int, default=480)
    parser.add_argument("--validation", type=int, default=300)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--address", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "sentiment_asha")
    args = parser.parse_args()

    frame = load_corpus("imdb", resolve_data_dir(args.data_dir))
    train = frame[frame["split"] == "train"].sample(n=args.train, random_state=args.seed)
    val = frame[frame["split"] == "validation"].sample(n=args.validation, random_state=args.seed)
    search = SearchConfig(
        num_samples=args.samples,
        max_epochs=args.max_epochs,
        cpus_per_trial=args.cpus,
        seed=args.seed,
        base=TransformerConfig(max_tokens=args.max_tokens, head_tokens=args.max_tokens // 2),
    )
    with tempfile.TemporaryDirectory() as storage:
        result = asha_search(
            (train["text"].tolist(), train["label"].tolist()),
            (val["text"].tolist(), val["label"].tolist()),
            search,
            storage=Path(storage),
            address=args.address,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(args.out.with_suffix(".csv"), index=False)
    config = {k: v for k, v in vars(args).items() if k not in {"data_dir", "out"}}
    summary = {
        "config": config,
        "seconds": result.seconds,
        "epochs_total": int(result.table["epochs_run"].sum()),
        "best": result.best,
        "provenance": provenance(),
    }
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    text = (
        "# ASHA search, fine-tuned MiniLM, IMDB sentiment (validation accuracy)\n\n"
        + markdown_header(summary["provenance"])
        + "\n"
        f"{args.samples} trials, at most {args.max_epochs} epochs each, {args.train} training "
        f"and {args.validation} validation reviews, {args.max_tokens} tokens; "
        f"{summary['epochs_total']} epochs run in all (without ASHA: "
        f"{args.samples * args.max_epochs}), {result.seconds:.0f} s on {args.cpus} CPUs.\n\n"
        + table_markdown(result.table)
    )
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
