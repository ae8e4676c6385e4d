"""Does the taste statement carry signal once a popularity prior is beside it? (issue #20)

On the newviewer protocol's VALIDATION users only (seed 42, the committed statements), with
the whole catalog ranked (ticks excluded), popular ticks, k = 1 and 3, English and Korean:

* ``popularity`` - the training users' counts;
* ``prior`` - statement-conditioned popularity
  (:meth:`cinerec.ranking.features.FeatureBuilder.statement_prior`), one row per weight
  setting of a small grid; the best setting is what the ``prior`` feature family ships with;
* ``stmt-sim`` - the statement's cosine to each description (fast-use) alone; the prior's
  ``similarity`` weight adds it to the prior;
* ``ease`` and ``ease+prior`` - EASE on the ticks, alone and rank-fused (RRF) with the shipped
  prior.

It also reports how much of the generator's own facts (``facts`` in the statements file) the
rule-based parser recovers (liked and disliked genres).

    CINEREC_DATA_DIR=../shared/data OMP_NUM_THREADS=1 nice -n 10 \\
        python benchmarks/newviewer_prior.py --dataset ml-latest-small

Writes ``benchmarks/results/newviewer/prior_<dataset>.json`` and ``.md`` with provenance.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.movielens import ML_LATEST_SMALL, load_ratings  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.data.types import Vocabulary  # noqa: E402
from cinerec.evaluation import metrics  # noqa: E402
from cinerec.evaluation.bootstrap import bootstrap_ci, paired_difference_ci  # noqa: E402
from cinerec.evaluation.newviewer import newviewer_data  # noqa: E402
from cinerec.ranking.features import (  # noqa: E402
    PRIOR_WEIGHTS,
    FeatureBuilder,
    PriorWeights,
    prior_score,
)
from cinerec.ranking.statements import LANGUAGES  # noqa: E402
from cinerec.text.taste import parse_taste  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "newviewer"
KS = (1, 3)
GRID = {
    "liked": (0.25, 0.5, 1.0),
    "disliked": (1.0, 3.0),
    "people": (0.0, 0.25, 1.0),
    "keywords": (0.0, 0.25),
    "era": (0.0, 0.25),
    "similarity": (0.0, 2.0, 5.0),
}
SIM_WEIGHTS = (2.0, 5.0, 10.0)
log = logging.getLogger("newviewer_prior")


def ndcg(scores: np.ndarray, blocked: np.ndarray, targets: np.ndarray) -> float:
    """NDCG@10 of ``scores`` over the catalog (``blocked`` never ranked)."""
    masked = np.where(blocked, -np.inf, scores)
    top = np.argpartition(-masked, 10)[:10]
    top = top[np.argsort(-masked[top], kind="stable")]
    ranks = metrics.relevant_ranks([top], [targets])
    return float(metrics.ndcg_at_k(ranks, np.array([len(targets)]), 10)[0])


def rank_of(scores: np.ndarray) -> np.ndarray:
    """0 for the best score."""
    out = np.empty(len(scores))
    out[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
    return out


def parse_recovery(viewers) -> dict[str, dict[str, int]]:
    """Liked/disliked genres of the generator's facts that the parser finds, per language."""
    alias = {"Children's": "Children"}
    out: dict[str, dict[str, int]] = {}
    for lang in LANGUAGES:
        c = {"liked": 0, "liked_found": 0, "disliked": 0, "disliked_found": 0, "inverted": 0}
        for v in viewers:
            taste = parse_taste(v.statements[lang])
            liked = {alias.get(g, g) for g in v.facts.liked_genres}
            disliked = {alias.get(g, g) for g in v.facts.disliked_genres}
            c["liked"] += len(liked)
            c["liked_found"] += len(liked & set(taste.liked_genres))
            c["disliked"] += len(disliked)
            c["disliked_found"] += len(disliked & set(taste.disliked_genres))
            c["inverted"] += len(disliked & set(taste.liked_genres))
        out[lang] = c
    return out


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=ML_LATEST_SMALL)
    parser.add_argument("--no-ease", action="store_true", help="skip the EASE rows")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--part",
        choices=("validation", "test"),
        default="validation",
        help="test: a post-hoc check of the shipped weights only (no grid, nothing chosen)",
    )
    args = parser.parse_args()
    prov = provenance(["benchmarks/newviewer_prior.py", *sys.argv[1:]])
    root = resolve_data_dir(None)
    catalog = load_catalog(root, args.dataset)
    movies = {m.movie_id: m for m in catalog}
    data = newviewer_data(
        load_ratings(root, args.dataset).frame, catalog, dataset=args.dataset, seed=42
    )
    viewers = data.validation if args.part == "validation" else data.test
    items = Vocabulary(sorted(data.all_frame["item_id"].unique()))
    counts = data.train["item_id"].value_counts().reindex(items.ids).fillna(0).to_numpy(float)
    from cinerec.config import default_cache_dir
    from cinerec.embeddings.base import l2_normalize
    from cinerec.embeddings.cache import EmbeddingCache
    from cinerec.embeddings.registry import build_embedder

    started = time.perf_counter()
    embedder = build_embedder("fast-use", threads=args.threads)
    known = [i for i in items.ids.tolist() if i in movies and movies[i].description]
    vectors = np.zeros((len(items), embedder.dim), np.float32)
    vectors[items.indices(known)] = EmbeddingCache(default_cache_dir() / "embeddings").embed(
        embedder, [movies[i].description for i in known]
    )
    vectors = l2_normalize(vectors)
    log.info("catalog embedded in %.0f s", time.perf_counter() - started)
    builder = FeatureBuilder(items, movies, vectors, counts)
    log_pop = builder.log_popularity
    cases = [(v, k, lang) for k in KS for lang in LANGUAGES for v in viewers]
    per: dict[str, dict[str, list[float]]] = {}

    def add(row: str, k: int, lang: str, value: float) -> None:
        per.setdefault(row, {}).setdefault(f"k={k}/{lang}", []).append(value)

    blocked_of = {}
    for v in viewers:
        for k in KS:
            blocked = np.zeros(len(items), bool)
            blocked[items.indices([i for i in v.ticks["popular"][:k] if i in items])] = True
            blocked_of[(v.user_id, k)] = blocked
    targets_of = {v.user_id: items.indices([i for i in v.targets if i in items]) for v in viewers}
    parts = {}
    for v in viewers:
        for lang in LANGUAGES:
            q = embedder.embed_query(v.statements[lang])
            q = l2_normalize(np.asarray(q, np.float32))
            parts[(v.user_id, lang)] = builder.prior_parts(v.statements[lang], q)
    for v, k, lang in cases:
        b, t = blocked_of[(v.user_id, k)], targets_of[v.user_id]
        add("popularity", k, lang, ndcg(log_pop, b, t))
        add("stmt-sim", k, lang, ndcg(parts[(v.user_id, lang)]["similarity"], b, t))
    settings = [dict(zip(GRID, vals, strict=True)) for vals in itertools.product(*GRID.values())]
    if args.part == "test":  # the shipped weights, and them without the similarity or genres
        shipped_weights = asdict(PRIOR_WEIGHTS)
        settings = [
            {**shipped_weights, "similarity": 0.0},
            {**shipped_weights, "liked": 0.0, "disliked": 0.0},
        ]
    for setting in settings:
        name = "prior " + ",".join(f"{a}={b:g}" for a, b in setting.items())
        weights = PriorWeights(**setting)
        for v, k, lang in cases:
            prior = prior_score(log_pop, parts[(v.user_id, lang)], weights)
            add(name, k, lang, ndcg(prior, blocked_of[(v.user_id, k)], targets_of[v.user_id]))
    shipped = "prior (shipped) " + ",".join(f"{a}={b:g}" for a, b in asdict(PRIOR_WEIGHTS).items())
    for v, k, lang in cases:
        prior = prior_score(log_pop, parts[(v.user_id, lang)], PRIOR_WEIGHTS)
        add(shipped, k, lang, ndcg(prior, blocked_of[(v.user_id, k)], targets_of[v.user_id]))
    if not args.no_ease:
        from cinerec.data.types import Interactions, Rated
        from cinerec.recommenders.base import TrainingOptions
        from cinerec.recommenders.registry import build

        started = time.perf_counter()
        ease = build("ease")
        ease.fit(Interactions(data.train), TrainingOptions(seed=42, threads=args.threads))
        log.info("EASE fitted in %.0f s", time.perf_counter() - started)
        for k in KS:
            histories = [[Rated(i) for i in v.ticks["popular"][:k]] for v in viewers]
            matrix = ease.score_batch(histories)
            cols = items.indices([i for i in matrix.items.ids if i in items])
            src = [n for n, i in enumerate(matrix.items.ids) if i in items]
            for row, v in enumerate(viewers):
                scores = np.full(len(items), -1e9)
                scores[cols] = np.asarray(matrix.scores[row], float)[src]
                b, t = blocked_of[(v.user_id, k)], targets_of[v.user_id]
                ease_rank = rank_of(np.where(b, -np.inf, scores))
                for lang in LANGUAGES:
                    add("ease", k, lang, ndcg(scores, b, t))
                    prior = prior_score(log_pop, parts[(v.user_id, lang)], PRIOR_WEIGHTS)
                    prior_rank = rank_of(np.where(b, -np.inf, prior))
                    for w in (0.5, 1.0, 2.0):
                        fused = 1.0 / (60 + ease_rank) + w / (60 + prior_rank)
                        add(f"ease+prior (shipped) rrf w={w:g}", k, lang, ndcg(fused, b, t))
    table: dict[str, dict[str, dict[str, float]]] = {}
    for row, sets in per.items():
        for key, values in sets.items():
            arr = np.array(values)
            entry = bootstrap_ci(arr, resamples=1000, seed=42).as_dict()
            base = np.array(per["popularity"][key])
            entry["vs_popularity"] = paired_difference_ci(
                arr, base, resamples=1000, seed=42
            ).as_dict()
            table.setdefault(row, {})[key] = entry
    grid_rows = [r for r in table if r.startswith("prior ") and "shipped" not in r]
    mean_k = {
        r: np.mean([table[r][f"k={k}/{lang}"]["mean"] for k in KS for lang in LANGUAGES])
        for r in grid_rows
    }
    best = max(grid_rows, key=lambda r: mean_k[r])
    result = {
        "dataset": args.dataset,
        "split_digest": data.split_digest,
        "part": args.part,
        "users": len(viewers),
        "draw": "popular",
        "ks": list(KS),
        "parse_recovery": parse_recovery(viewers),
        "parse_recovery_test_users": parse_recovery(data.test),
        "best_prior_on_validation": best,
        "shipped_weights": asdict(PRIOR_WEIGHTS),
        "table": table,
        "provenance": prov,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.part == "validation" else "_test"
    path = OUT / f"prior_{args.dataset}{suffix}.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = [
        markdown_header(prov),
        f"# Statement-conditioned popularity on {args.part} users ({args.dataset})",
        ""
        if args.part == "validation"
        else "\nPost hoc, after the protocol run: the shipped weights on the TEST users, to "
        "explain the run; nothing here chose anything.",
        "",
        f"{len(viewers)} {args.part} users, popular ticks, whole catalog ranked (ticks "
        "excluded). NDCG@10 mean [95 % bootstrap interval]; `vs pop` is the paired "
        "difference against popularity.",
        "",
        f"Best prior setting here (mean over k and language): `{best}`.",
        "",
        "| row | " + " | ".join(f"k={k} {lang}" for k in KS for lang in LANGUAGES) + " |",
        "|---|" + "---|" * (len(KS) * len(LANGUAGES)),
    ]
    for row, sets in table.items():
        cells = []
        for k in KS:
            for lang in LANGUAGES:
                e = sets[f"k={k}/{lang}"]
                d = e["vs_popularity"]
                cells.append(
                    f"{e['mean']:.3f} [{e['low']:.3f}, {e['high']:.3f}]; vs pop "
                    f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
                )
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines += ["", f"Parser recovery of the generator's genres ({args.part} users):", ""]
    for lang, c in result["parse_recovery"].items():
        lines.append(
            f"- {lang}: liked {c['liked_found']}/{c['liked']}, disliked "
            f"{c['disliked_found']}/{c['disliked']}, disliked read as liked {c['inverted']}"
        )
    (OUT / f"prior_{args.dataset}{suffix}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
