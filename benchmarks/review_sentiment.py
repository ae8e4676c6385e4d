"""IMDB sentiment: TF-IDF baseline vs fine-tuned MiniLM, its ONNX fp32 / int8 copies, and a blend.

Run from the repository root (2 threads; keep the machine otherwise quiet)::

    python benchmarks/review_sentiment.py --train-limit 6000 --test-limit 5000

What it does, on the IMDB splits of ``cinerec reviews`` (validation = train reviews whose
IMDb id ends in 1; IMDB's train and test movies are disjoint):

1. TF-IDF NB-LR (the ``imdb`` task's default config) on all training reviews.
2. MiniLM fine-tuned on ``--train-limit`` sampled training reviews (head + tail tokens),
   early-stopped on validation part A.
3. ONNX export of the fine-tuned model, fp32 and int8 (dynamic quantization); each backend
   scores the same test sample; throughput = reviews per second, tokenization included.
4. A blend ``w * p_minilm + (1 - w) * p_tfidf``, ``w`` chosen on validation part B (never on
   test).

Accuracies carry Wilson 95% intervals; model differences on the same test sample come with a
paired bootstrap interval. Results: ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from provenance import markdown_header, provenance

from cinerec.config import default_cache_dir
from cinerec.data.paths import resolve_data_dir
from cinerec.reviews.metrics import accuracy_ci, accuracy_difference_ci, estimate_text
from cinerec.reviews.sentiment import TfidfSentimentModel
from cinerec.reviews.sentiment.onnx_serving import OnnxSentimentModel, export_onnx, quantize_int8
from cinerec.reviews.transformer import (
    TransformerClassifier,
    TransformerConfig,
)
from cinerec.reviews.workflow import SENTIMENT_CONFIGS, load_corpus

ROOT = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--train-limit", type=int, default=6000)
    parser.add_argument("--val-a", type=int, default=800, help="validation reviews for stopping")
    parser.add_argument("--test-limit", type=int, default=5000, help="0: the whole test set")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument(
        "--requantize", action="store_true", help="redo the int8 copy of a kept model"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "review_sentiment")
    args = parser.parse_args()

    data_dir = resolve_data_dir(args.data_dir)
    model_dir = args.model_dir or default_cache_dir() / "benchmarks" / "imdb-minilm"
    frame = load_corpus("imdb", data_dir)
    rng = np.random.default_rng(args.seed)
    train = frame[frame["split"] == "train"]
    val = frame[frame["split"] == "validation"].sample(frac=1.0, random_state=args.seed)
    test = frame[frame["split"] == "test"]
    val_a, val_b = val.iloc[: args.val_a], val.iloc[args.val_a :]
    if args.test_limit:
        test_s = test.iloc[np.sort(rng.choice(len(test), args.test_limit, replace=False))]
    else:
        test_s = test
    y_b, y_t = val_b["label"].to_numpy(), test_s["label"].to_numpy()
    report: dict[str, Any] = {
        "config": vars(args) | {"data_dir": "<data>", "model_dir": "<cache>", "out": None},
        "machine": {"python": platform.python_version(), "cpus": 2},
        "sizes": {
            "train": len(train),
            "validation_a": len(val_a),
            "validation_b": len(val_b),
            "test": len(test),
            "test_sample": len(test_s),
        },
    }

    print(f"TF-IDF on {len(train)} reviews ...", flush=True)
    started = time.perf_counter()
    tfidf = TfidfSentimentModel(SENTIMENT_CONFIGS["imdb"]).fit(
        train["text"].tolist(), train["label"].to_numpy()
    )
    tfidf_train_s = time.perf_counter() - started
    started = time.perf_counter()
    p_tfidf_full = tfidf.predict_proba(test["text"].tolist())[:, 1]
    tfidf_rate = len(test) / (time.perf_counter() - started)
    p_tfidf_b = tfidf.predict_proba(val_b["text"].tolist())[:, 1]
    p_tfidf_t = p_tfidf_full[test.index.get_indexer(test_s.index)]
    report["tfidf"] = {
        "train_seconds": tfidf_train_s,
        "reviews_per_second": tfidf_rate,
        "test_accuracy_full": accuracy_ci(
            test["label"].to_numpy(), (p_tfidf_full > 0.5).astype(int)
        ).as_dict(),
    }

    config = TransformerConfig(
        max_tokens=args.max_tokens,
        head_tokens=args.max_tokens // 2,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        epochs=args.epochs,
        threads=args.threads,
        seed=args.seed,
    )
    if args.retrain or not (model_dir / "cinerec-sentiment.json").is_file():
        sample = train.sample(n=min(args.train_limit, len(train)), random_state=args.seed)
        print(f"Fine-tuning MiniLM on {len(sample)} reviews ...", flush=True)
        last = [time.perf_counter()]

        def step(i: int, total: int, loss: float) -> None:
            if i % 50 == 0 or i == total:
                now = time.perf_counter()
                print(f"  step {i}/{total} loss {loss:.3f} ({now - last[0]:.0f} s)", flush=True)
                last[0] = now

        model = TransformerClassifier(config).fit(
            sample["text"].tolist(),
            sample["label"].to_numpy(),
            validation=(val_a["text"].tolist(), val_a["label"].to_numpy()),
            on_step=step,
            on_epoch=lambda s: print(f"  epoch {s}", flush=True),
        )
        model.save(model_dir, metadata={"train_reviews": len(sample)})
        export_onnx(model, model_dir)
        quantize_int8(model_dir)
    elif args.requantize:
        quantize_int8(model_dir)
    model = TransformerClassifier.load(model_dir, threads=args.threads)
    report["minilm"] = {
        "history": {
            "epochs": model.history.epochs,
            "best_epoch": model.history.best_epoch,
            "train_seconds": model.history.seconds,
        },
        "train_reviews": model.metadata.get("train_reviews"),
    }

    texts_t = test_s["text"].tolist()
    backends: dict[str, Any] = {
        "torch_fp32": model,
        "onnx_fp32": OnnxSentimentModel.load(model_dir, quantized=False, threads=args.threads),
        "onnx_int8": OnnxSentimentModel.load(model_dir, quantized=True, threads=args.threads),
    }
    probs: dict[str, np.ndarray] = {}
    for name, backend in backends.items():
        print(f"Scoring {len(texts_t)} test reviews with {name} ...", flush=True)
        backend.predict_proba(texts_t[:64])  # warm-up
        started = time.perf_counter()
        probs[name] = backend.predict_proba(texts_t)[:, 1]
        seconds = time.perf_counter() - started
        report[name] = {
            "reviews_per_second": len(texts_t) / seconds,
            "test_accuracy": accuracy_ci(y_t, (probs[name] > 0.5).astype(int)).as_dict(),
        }
    for name in ("onnx_fp32", "onnx_int8"):
        report[name]["speedup_vs_torch_fp32"] = (
            report[name]["reviews_per_second"] / report["torch_fp32"]["reviews_per_second"]
        )
        report[name]["accuracy_diff_vs_torch_fp32"] = accuracy_difference_ci(
            y_t, (probs[name] > 0.5).astype(int), (probs["torch_fp32"] > 0.5).astype(int)
        ).as_dict()
        report[name]["max_abs_prob_diff"] = float(np.abs(probs[name] - probs["torch_fp32"]).max())

    p_minilm_b = model.predict_proba(val_b["text"].tolist())[:, 1]
    grid = np.round(np.linspace(0, 1, 21), 2)
    val_acc = [float((((w * p_minilm_b + (1 - w) * p_tfidf_b) > 0.5) == y_b).mean()) for w in grid]
    w = float(grid[int(np.argmax(val_acc))])
    blend_t = ((w * probs["torch_fp32"] + (1 - w) * p_tfidf_t) > 0.5).astype(int)
    blend_i8 = ((w * probs["onnx_int8"] + (1 - w) * p_tfidf_t) > 0.5).astype(int)
    tfidf_t = (p_tfidf_t > 0.5).astype(int)
    report["blend"] = {
        "weight_minilm": w,
        "validation_b_accuracy_by_weight": dict(zip(map(str, grid), val_acc, strict=True)),
        "test_accuracy": accuracy_ci(y_t, blend_t).as_dict(),
        "test_accuracy_int8": accuracy_ci(y_t, blend_i8).as_dict(),
        "diff_vs_tfidf": accuracy_difference_ci(y_t, blend_t, tfidf_t).as_dict(),
    }
    report["tfidf"]["test_accuracy_sample"] = accuracy_ci(y_t, tfidf_t).as_dict()
    report["minilm"]["diff_vs_tfidf"] = accuracy_difference_ci(
        y_t, (probs["torch_fp32"] > 0.5).astype(int), tfidf_t
    ).as_dict()

    report["provenance"] = provenance()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))


def markdown(r: dict[str, Any]) -> str:
    """The report as a Markdown table."""
    s = r["sizes"]
    lines = [
        "# IMDB sentiment: TF-IDF, fine-tuned MiniLM, ONNX fp32/int8, blend",
        "",
        markdown_header(r["provenance"]) if "provenance" in r else "",
        f"Test sample: {s['test_sample']} of {s['test']} test reviews (same reviews for every "
        f"row). MiniLM fine-tuned on {r['minilm']['train_reviews']} training reviews; TF-IDF on "
        f"all {s['train']}. Blend weight chosen on {s['validation_b']} validation reviews.",
        "",
        "| model | test accuracy (95% CI) | reviews/s (2 threads) |",
        "|---|---|---|",
        f"| TF-IDF NB-LR, whole test set | {estimate_text(r['tfidf']['test_accuracy_full'])} | "
        f"{r['tfidf']['reviews_per_second']:.0f} |",
        f"| TF-IDF NB-LR | {estimate_text(r['tfidf']['test_accuracy_sample'])} | |",
    ]
    for name in ("torch_fp32", "onnx_fp32", "onnx_int8"):
        lines.append(
            f"| MiniLM {name.replace('_', ' ')} | {estimate_text(r[name]['test_accuracy'])} | "
            f"{r[name]['reviews_per_second']:.1f} |"
        )
    b = r["blend"]
    lines += [
        f"| blend (w={b['weight_minilm']}) | {estimate_text(b['test_accuracy'])} | |",
        f"| blend with int8 MiniLM | {estimate_text(b['test_accuracy_int8'])} | |",
        "",
        "| comparison | value (95% CI) |",
        "|---|---|",
    ]
    for name in ("onnx_fp32", "onnx_int8"):
        d = r[name]["accuracy_diff_vs_torch_fp32"]
        lines.append(
            f"| {name} vs torch fp32: speed-up {r[name]['speedup_vs_torch_fp32']:.2f}x, "
            f"accuracy | {estimate_text(d, signed=True)} |"
        )
    for label, d in (
        ("MiniLM - TF-IDF", r["minilm"]["diff_vs_tfidf"]),
        ("blend - TF-IDF", b["diff_vs_tfidf"]),
    ):
        lines.append(f"| {label} accuracy | {estimate_text(d, signed=True)} |")
    h = r["minilm"]["history"]
    lines += ["", f"MiniLM training: {h['train_seconds']:.0f} s, best epoch {h['best_epoch']}."]
    for e in h["epochs"]:
        lines.append(
            f"- epoch {int(e['epoch'])}: train loss {e['train_loss']:.3f}, validation accuracy "
            f"{e.get('val_accuracy', float('nan')):.4f}"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
