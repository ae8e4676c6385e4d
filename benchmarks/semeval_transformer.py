"""SemEval-2014 restaurants: TF-IDF aspect models vs fine-tuned MiniLM, in one run.

Run from the repository root (2 threads, quiet machine)::

    python benchmarks/semeval_transformer.py

Category detection (micro F1, five categories) and category polarity (accuracy over the gold
``(sentence, category)`` pairs, four polarities). Both families hold out part of the training
file (thresholds; early stopping for MiniLM); the test file is only scored. Results:
``results/semeval.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from provenance import markdown_header, provenance

from benchmarks.semeval import evaluate_semeval, evaluate_semeval_transformer
from cinerec.data.paths import resolve_data_dir
from cinerec.data.reviews import load_semeval
from cinerec.reviews.metrics import estimate_text
from cinerec.reviews.transformer import TransformerConfig

ROOT = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=8e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "semeval")
    args = parser.parse_args()
    data_dir = resolve_data_dir(args.data_dir)
    train, test = load_semeval(data_dir), load_semeval(data_dir, part="test")

    started = time.perf_counter()
    tfidf = evaluate_semeval(train, test, seed=args.seed)
    tfidf_s = time.perf_counter() - started
    config = TransformerConfig(
        max_tokens=args.max_tokens,
        head_tokens=args.max_tokens * 2 // 3,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        epochs=args.epochs,
        threads=args.threads,
        seed=args.seed,
    )
    minilm = evaluate_semeval_transformer(
        train, test, category_config=config, polarity_config=config, seed=args.seed
    )
    report = {
        "config": {k: v for k, v in vars(args).items() if k not in {"data_dir", "out"}},
        "sizes": {"train_sentences": len(train), "test_sentences": len(test)},
        "tfidf": {
            "category_f1": tfidf.category_f1.as_dict(),
            "polarity_accuracy": tfidf.polarity_accuracy.as_dict(),
            "seconds": tfidf_s,
        },
        "minilm": {
            "category_f1": minilm.category_f1.as_dict(),
            "polarity_accuracy": minilm.polarity_accuracy.as_dict(),
            "thresholds": minilm.thresholds,
            "history": minilm.history,
            "seconds": minilm.seconds,
            "model_config": asdict(config),
        },
    }
    report["provenance"] = provenance()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    t, m = report["tfidf"], report["minilm"]
    cells = {
        name: f"{estimate_text(r['category_f1'], 3)} | {estimate_text(r['polarity_accuracy'], 3)}"
        for name, r in (("tfidf", t), ("minilm", m))
    }
    text = "\n".join(
        [
            "# SemEval-2014 restaurants: aspect categories and their polarity",
            "",
            markdown_header(report["provenance"]),
            "",
            f"{len(train)} training sentences (15% held out for thresholds / early stopping), "
            f"{len(test)} test sentences. 95% intervals (Wilson for accuracy, bootstrap for F1).",
            "",
            "| model | category micro F1 | category-polarity accuracy | seconds (2 threads) |",
            "|---|---|---|---|",
            f"| TF-IDF (word + char n-grams), one-vs-rest / per-aspect LR | "
            f"{cells['tfidf']} | {t['seconds']:.0f} |",
            f"| MiniLM fine-tuned (multi-label; pairs for polarity) | {cells['minilm']} | "
            f"{m['seconds']:.0f} |",
            "",
            "Targets: F1 >= 0.90, polarity accuracy >= 0.87.",
            "",
        ]
    )
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
