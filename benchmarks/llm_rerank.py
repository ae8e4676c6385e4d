"""Ranking without generation: a local model's Yes/No and verbalizer scores over EASE candidates.

Protocol 1 (leave-one-out on ml-latest-small, as LlamaRec). EASE proposes 20 candidates per
user; the language model re-ranks them by (a) the Yes/No log-odds of "Would this viewer enjoy
<movie>?" per candidate, (b) a verbalizer (labels A-T in one prompt, next-token distribution
over the labels), with and without position-bias mitigation (given + reversed order), and
(c) a blend of the retriever's rank with the model score, its weight fitted on validation users.

A user whose held-out movie is not among the 20 candidates scores 0 under every re-ranking, so
the model only runs on users whose target is in the top 20 ("hit users"). With ``--users 0``
every hit user is scored and the population metrics are exact; with ``--users N`` a random N of
them per split, and population numbers are the hit-user means times the hit rate.

    python benchmarks/llm_rerank.py quality --model qwen2.5-coder-0.5b --users 0 --threads 1 \
        --out benchmarks/results/llm_rerank_0.5b.json
    python benchmarks/llm_rerank.py latency --model qwen2.5-coder-1.5b --threads 1,2 --pages 12 \
        --out benchmarks/results/llm_rerank_latency_1.5b.json

Quality runs keep a per-user cache next to ``--out`` (``.users.jsonl``) and resume from it;
``--analyse-only`` reports on the users cached so far (users are scored in a random order,
validation and test alternating, so any prefix is a random sample of both splits).
``--shard K/N`` splits that queue between N one-thread processes (one per core), each with its
own cache file (``.users.shardKofN.jsonl``); ``--analyse-only`` then reports on all of them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from provenance import markdown_header, provenance

from cinerec.config import Settings
from cinerec.data.catalog import load_catalog
from cinerec.data.paths import resolve_data_dir
from cinerec.data.types import Movie, Rated
from cinerec.evaluation import metrics
from cinerec.evaluation.bootstrap import bootstrap_ci, paired_difference_ci
from cinerec.evaluation.protocols import EvalCase, build_task
from cinerec.evaluation.score_mix_weight import MixRow, fit_mix_weight
from cinerec.llm.backends.llamacpp import LlamaCppBackend
from cinerec.llm.models import locate_gguf
from cinerec.llm.persona import UserProfile, template_persona
from cinerec.llm.ranking.rerank import Candidate
from cinerec.llm.ranking.score_mix import mix_order, rank_page
from cinerec.llm.ranking.verbalizer import verbalizer_scores
from cinerec.llm.ranking.yesno import PriorCache, warm_priors, yesno_scores
from cinerec.recommenders.base import TrainingOptions
from cinerec.recommenders.ease import EASEConfig, EASERecommender

N_CANDIDATES = 20
K = 10
log = logging.getLogger("llm_rerank")


# -- shared setup --------------------------------------------------------------------------------


def _backend(model: str, threads: int) -> LlamaCppBackend:
    path = locate_gguf(model, Settings(llm_backend="none").cache_dir)
    backend = LlamaCppBackend(path, n_threads=threads, n_ctx=4096, seed=42, model_name=model)
    backend.load()
    return backend


def _setup(threads: int) -> tuple[Any, EASERecommender, dict[int, Movie]]:
    data_dir = resolve_data_dir()
    task = build_task("loo", data_dir)
    ease = EASERecommender(EASEConfig())
    ease.fit(task.train, TrainingOptions(seed=42, threads=threads))
    movies = {m.movie_id: m for m in load_catalog(data_dir)}
    return task, ease, movies


def _candidates(ease: EASERecommender, case: EvalCase, movies: dict[int, Movie]) -> list[Candidate]:
    return [
        Candidate(movies[r.movie_id], float(r.score))
        for r in ease.recommend(case.history, n=N_CANDIDATES)
    ]


def _history(history: Sequence[Rated], movies: dict[int, Movie]) -> list[Movie]:
    return [movies[r.movie_id] for r in history if r.movie_id in movies]


# -- quality -------------------------------------------------------------------------------------


# Bump a method's version when its prompt changes: cached users are then re-scored for that
# method only. verbalizer 2: the prompt no longer names the label range ("A to T" made the
# 1.5B model answer "T" for every user).
VERSIONS = {"yesno": 1, "verbalizer": 2}


def _score_user(
    backend: LlamaCppBackend,
    case: EvalCase,
    candidates: list[Candidate],
    movies: dict[int, Movie],
    row: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The scorers whose results ``row`` lacks or has from an older prompt (MovieLens users:
    no taste text, no persona). The yes/no prompts run first, so the verbalizer finds the
    viewer prefix in the KV cache, as a service would."""
    profile = UserProfile(name="")
    history = _history(case.history, movies)
    ids = [c.movie.movie_id for c in candidates]
    row = dict(row or {})
    row |= {
        "user_id": case.user_id,
        "ids": ids,
        "targets": [ids.index(t) for t in case.targets if t in ids],
    }
    row.setdefault("fallback", [False, False])
    row.setdefault("errors", [None, None])
    if row.get("yesno_version", 1) != VERSIONS["yesno"] or "yesno" not in row:
        yes = yesno_scores(backend, profile, "", history, candidates, timeout_s=600)
        row |= {
            "yesno_version": VERSIONS["yesno"],
            "yesno": list(yes.scores),
            "yesno_raw": list(yes.details.get("log_odds", ())),
            "p_yes": list(yes.details.get("p_yes", ())),
            "yes_mass": list(yes.details.get("yes_mass", ())),
            "yesno_s": yes.elapsed_s,
            "yesno_prefix_s": yes.prefix_s,
            "yesno_tokens": [yes.prompt_tokens, yes.evaluated_tokens],
        }
        row["fallback"][0], row["errors"][0] = yes.fallback, yes.error
    if row.get("verbalizer_version", 1) != VERSIONS["verbalizer"] or "forward" not in row:
        verb = verbalizer_scores(backend, profile, "", history, candidates, timeout_s=600)
        row |= {
            "verbalizer_version": VERSIONS["verbalizer"],
            "forward": list(verb.details.get("forward", ())),
            "reversed": list(verb.details.get("reversed", ())),
            "label_mass": list(verb.details.get("label_mass", ())),
            "verbalizer_s": verb.elapsed_s,
            "verbalizer_prefix_s": verb.prefix_s,
            "verbalizer_tokens": [verb.prompt_tokens, verb.evaluated_tokens],
        }
        row["fallback"][1], row["errors"][1] = verb.fallback, verb.error
    return row


def _shard(text: str) -> tuple[int, int]:
    """``K/N``: score every N-th user of the queue starting at K (0-based), so N processes
    of one thread each share a run. Each writes its own cache file; every report reads all."""
    try:
        shard, shards = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard wants K/N, e.g. 0/2, not {text!r}") from None
    if not 0 <= shard < shards:
        raise argparse.ArgumentTypeError(f"--shard {text}: need 0 <= K < N")
    return shard, shards


def _cache_path(out: Path, shard: tuple[int, int]) -> Path:
    if shard[1] == 1:
        return out.with_suffix(".users.jsonl")
    return out.with_suffix(f".users.shard{shard[0]}of{shard[1]}.jsonl")


def _cache_paths(out: Path) -> list[Path]:
    """The run's cache and its shards' caches; a user found twice keeps the later file's row."""
    return sorted(out.parent.glob(out.with_suffix("").name + ".users*.jsonl"))


def _current(row: dict[str, Any]) -> bool:
    return all(row.get(f"{m}_version", 1) == v for m, v in VERSIONS.items())


def _metrics(orders: list[list[int]], rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Per-user NDCG@10, hit rate@10 (any target in the top 10) and MRR@10 of the orders."""
    relevant = [np.unique(np.asarray(r["targets"], dtype=np.int64)) for r in rows]
    ranks = metrics.relevant_ranks([np.asarray(o, dtype=np.int64) for o in orders], relevant)
    n_relevant = np.array([len(r) for r in relevant])
    return {
        "ndcg@10": metrics.ndcg_at_k(ranks, n_relevant, K),
        "recall@10": (metrics.hits_at_k(ranks, K) > 0).astype(float),
        "mrr@10": metrics.mrr_at_k(ranks, K),
    }


def _order_by(scores: Sequence[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def _variants(
    validation: list[dict[str, Any]],
) -> tuple[dict[str, Callable[[dict[str, Any]], list[int]]], dict[str, Any]]:
    """Every ranking compared, with what was fitted on validation (weights, position prior)."""
    fits: dict[str, Any] = {}
    forward = np.array([r["forward"] for r in validation])
    prior = forward.mean(axis=0) if len(forward) else np.zeros(N_CANDIDATES)
    fits["position_prior"] = prior.tolist()

    def calibrated(r: dict[str, Any]) -> list[float]:
        return (np.asarray(r["forward"]) - prior[: len(r["forward"])]).tolist()

    def debiased(r: dict[str, Any]) -> list[float]:
        return ((np.asarray(r["forward"]) + np.asarray(r["reversed"])) / 2).tolist()

    score_of: dict[str, Callable[[dict[str, Any]], list[float]]] = {
        "yesno_raw": lambda r: r["yesno_raw"],
        "yesno": lambda r: r["yesno"],
        "verbalizer_forward": lambda r: r["forward"],
        "verbalizer_debiased": debiased,
        "verbalizer_calibrated": calibrated,
    }
    variants: dict[str, Callable[[dict[str, Any]], list[int]]] = {
        "retriever": lambda r: list(range(len(r["ids"]))),
    }
    for name, score in score_of.items():
        variants[name] = lambda r, score=score: _order_by(score(r))
    for name in ("yesno_raw", "yesno", "verbalizer_debiased", "verbalizer_calibrated"):
        score = score_of[name]
        rows = [MixRow(tuple(score(r)), tuple(r["targets"])) for r in validation]
        fit = fit_mix_weight(rows)
        fits[f"blend_{name}"] = {
            "weight": fit.weight,
            "validation_ndcg@10": {str(w): round(v, 5) for w, v in fit.table.items()},
            "validation_rows": fit.n_rows,
            "best_weight": fit.best,
            "best_gain_ci95": [round(v, 5) for v in fit.best_gain_ci95],
        }
        variants[f"blend_{name}"] = lambda r, s=score, w=fit.weight: mix_order(s(r), w)
    return variants, fits


def _bias(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How much the verbalizer prefers early labels, and how the mitigation changes it."""
    if not rows:
        return {}
    forward = np.array([r["forward"] for r in rows])
    rev = np.array([r["reversed"] for r in rows])
    top_fwd = forward.argmax(axis=1)
    # In the reversed pass, the label shown first belongs to the last candidate.
    top_rev_shown = (N_CANDIDATES - 1) - rev.argmax(axis=1)
    both = (forward + rev) / 2
    agreement = [
        float(np.corrcoef(f, r)[0, 1]) if np.std(f) > 0 and np.std(r) > 0 else float("nan")
        for f, r in zip(forward, rev, strict=True)
    ]
    return {
        "mean_logprob_by_shown_position_forward": forward.mean(axis=0).round(3).tolist(),
        "share_top_pick_first_shown_forward": float((top_fwd == 0).mean()),
        "share_top_pick_first_shown_reversed": float((top_rev_shown == 0).mean()),
        "share_top_pick_last_shown_forward": float((top_fwd == N_CANDIDATES - 1).mean()),
        "share_top_pick_last_shown_reversed": float((top_rev_shown == N_CANDIDATES - 1).mean()),
        "share_top_pick_first_or_last_shown_forward": float(
            np.isin(top_fwd, [0, N_CANDIDATES - 1]).mean()
        ),
        "share_top_pick_is_retriever_top_debiased": float((both.argmax(axis=1) == 0).mean()),
        "forward_vs_reversed_score_correlation_mean": float(np.nanmean(agreement)),
        "mean_label_mass": float(np.mean([np.mean(r["label_mass"]) for r in rows])),
        "mean_yes_or_no_mass": float(np.mean([np.mean(r["yes_mass"]) for r in rows])),
    }


def _summaries(
    rows: list[dict[str, Any]],
    variants: dict[str, Callable[[dict[str, Any]], list[int]]],
    *,
    hit_rate: float,
    n_population: int,
    exact: bool,
    resamples: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    per_variant = {name: _metrics([v(r) for r in rows], rows) for name, v in variants.items()}
    base = per_variant["retriever"]
    for name, values in per_variant.items():
        entry: dict[str, Any] = {}
        for metric, arr in values.items():
            ci = bootstrap_ci(arr, resamples=resamples, seed=1)
            diff = paired_difference_ci(arr, base[metric], resamples=resamples, seed=1)
            if exact:  # all hit users scored: pad with the zero users to the population
                pop = np.concatenate([arr, np.zeros(n_population - len(arr))])
                pop_base = np.concatenate([base[metric], np.zeros(n_population - len(arr))])
                pop_ci = bootstrap_ci(pop, resamples=resamples, seed=1)
                pop_diff = paired_difference_ci(pop, pop_base, resamples=resamples, seed=1)
            else:  # hit-user means scaled by the hit rate (interval scaled the same way)
                pop_ci = type(ci)(*(x * hit_rate for x in (ci.mean, ci.low, ci.high)), ci.level)
                pop_diff = type(diff)(
                    *(x * hit_rate for x in (diff.mean, diff.low, diff.high)), diff.level
                )
            entry[metric] = {
                "hit_users": ci.as_dict(),
                "hit_users_minus_retriever": diff.as_dict(),
                "population": pop_ci.as_dict(),
                "population_minus_retriever": pop_diff.as_dict(),
                "relative_change": (
                    float(arr.mean() / base[metric].mean() - 1.0)
                    if base[metric].mean() > 0
                    else None
                ),
            }
        out[name] = entry
    return out


def _latency_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def stats(key: str) -> dict[str, float]:
        values = [r[key] for r in rows]
        return {
            "p50": float(np.percentile(values, 50)),
            "p95": float(np.percentile(values, 95)),
            "mean": float(np.mean(values)),
        }

    return {
        "note": "measured during the quality run on a shared, busy CPU; not a latency result",
        "yesno_s": stats("yesno_s"),
        "yesno_prefix_s": stats("yesno_prefix_s"),
        "verbalizer_s": stats("verbalizer_s"),
        "yesno_prompt_tokens_mean": float(np.mean([r["yesno_tokens"][0] for r in rows])),
        "yesno_evaluated_tokens_mean": float(np.mean([r["yesno_tokens"][1] for r in rows])),
        "verbalizer_evaluated_tokens_mean": float(
            np.mean([r["verbalizer_tokens"][1] for r in rows])
        ),
    }


def quality(args: argparse.Namespace) -> dict[str, Any]:
    threads = int(str(args.threads).split(",")[0])
    task, ease, movies = _setup(threads)
    rng = np.random.default_rng(args.seed)
    splits = {"validation": list(task.validation), "test": list(task.test_sets["test"])}
    plan: dict[str, list[tuple[EvalCase, list[Candidate]]]] = {}
    recall20: dict[str, Any] = {}
    for split, cases in splits.items():
        pairs = [(c, _candidates(ease, c, movies)) for c in cases]
        hits = [(c, cand) for c, cand in pairs if set(c.targets) & {x.movie.movie_id for x in cand}]
        recall20[split] = {
            "users": len(cases),
            "hit_users": len(hits),
            "recall@20": bootstrap_ci(
                np.array(
                    [
                        float(bool(set(c.targets) & {x.movie.movie_id for x in cand}))
                        for c, cand in pairs
                    ]
                ),
                resamples=args.resamples,
                seed=1,
            ).as_dict(),
        }
        if args.users and args.users < len(hits):
            # a prefix of one permutation: a smaller --users run is a subset of a larger one
            # in permutation order, so the users done so far are always a random sample
            picked = rng.permutation(len(hits))[: args.users].tolist()
            hits = [hits[i] for i in picked]
        plan[split] = hits
        log.info("%s: %d users, %d hits scored", split, len(cases), len(hits))

    cache_path = _cache_path(args.out, args.shard)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, int], dict[str, Any]] = {}
    for path in _cache_paths(args.out):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row.get("model") == args.model:
                done[(row["split"], row["user_id"])] = row
    backend = None if args.analyse_only else _backend(args.model, threads)
    started = time.perf_counter()
    total = sum(len(v) for v in plan.values())
    count = 0
    # validation and test users alternate, so a cut-short run still has both splits
    queue = [
        (split, pair)
        for k in range(max(len(v) for v in plan.values()))
        for split in ("validation", "test")
        if k < len(plan[split])
        for pair in [plan[split][k]]
    ]
    shard, shards = args.shard
    with cache_path.open("a") as sink:
        for position, (split, (case, cands)) in enumerate(queue):
            count += 1
            if position % shards != shard:
                continue
            cached = done.get((split, case.user_id))
            if (cached is not None and _current(cached)) or args.analyse_only:
                continue
            assert backend is not None
            row = _score_user(backend, case, cands, movies, cached)
            row |= {"split": split, "model": args.model}
            done[(split, case.user_id)] = row
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            log.info(
                "%s %d/%d user %d: yesno %.1fs verbalizer %.1fs (%.0f s so far)",
                split, count, total, case.user_id, row["yesno_s"], row["verbalizer_s"],
                time.perf_counter() - started,
            )  # fmt: skip
    # with --analyse-only: the users scored so far (a random sample, see above)
    rows = {
        s: [
            done[(s, c.user_id)]
            for c, _ in plan[s]
            if (s, c.user_id) in done and _current(done[(s, c.user_id)])
        ]
        for s in plan
    }
    fallbacks = {s: int(sum(any(r["fallback"]) for r in rs)) for s, rs in rows.items()}
    variants, fits = _variants(rows["validation"])
    results = {}
    for split in ("validation", "test"):
        exact = len(rows[split]) == recall20[split]["hit_users"]
        results[split] = _summaries(
            rows[split],
            variants,
            hit_rate=recall20[split]["hit_users"] / recall20[split]["users"],
            n_population=recall20[split]["users"],
            exact=exact,
            resamples=args.resamples,
        )
    return {
        "benchmark": "llm_rerank quality",
        "provenance": provenance(),
        "model": args.model,
        "threads": threads,
        "seed": args.seed,
        "protocol": "loo",
        "dataset": task.dataset,
        "data_fingerprint": task.fingerprint,
        "retriever": {"name": "ease", "config": {"regularization": EASEConfig().regularization}},
        "candidates": N_CANDIDATES,
        "viewer": "no taste, no persona; top genres of the whole history + last 10 titles",
        "users_scored": {s: len(r) for s, r in rows.items()},
        "fallbacks": fallbacks,
        "retriever_recall@20": recall20,
        "fits_on_validation": fits,
        "results": results,
        "position_bias_test": _bias(rows["test"]),
        "latency_during_run": _latency_summary(rows["test"] + rows["validation"]),
    }


# -- latency -------------------------------------------------------------------------------------


def latency(args: argparse.Namespace) -> dict[str, Any]:
    """p50/p95 time to the ranked list of one page of 20, cold (first page of a viewer) and warm
    (their next page: the viewer prefix is already in the KV cache)."""
    task, ease, movies = _setup(1)
    cases = [c for c in task.test_sets["test"] if len(c.history) >= 20][: args.pages]
    taste = "slow-burn sci-fi and clever crime stories, no horror"
    out: dict[str, Any] = {}
    methods: dict[str, dict[str, Any]] = {
        "yesno": {"method": "yesno"},
        "verbalizer": {"method": "verbalizer"},
        "verbalizer_one_order": {"method": "verbalizer", "debias": False},
    }
    plans = []
    for case in cases:
        recs = ease.recommend(case.history, n=2 * N_CANDIDATES)
        pages = [
            [Candidate(movies[r.movie_id], float(r.score)) for r in recs[:N_CANDIDATES]],
            [Candidate(movies[r.movie_id], float(r.score)) for r in recs[N_CANDIDATES:]],
        ]
        history = _history(case.history, movies)
        profile = UserProfile(name="Sam", age=34, taste=taste)
        plans.append((pages, history, profile, template_persona(profile, history)))
    for threads in (int(t) for t in str(args.threads).split(",")):
        backend = _backend(args.model, threads)
        # The yes/no contrast needs each movie's unknown-viewer score once per model; a service
        # computes them ahead (warm_priors), so they are timed apart from the pages.
        priors = PriorCache()
        page_movies = [c.movie for pages, *_ in plans for page in pages for c in page]
        start = time.perf_counter()
        n_priors = warm_priors(backend, page_movies, priors=priors)
        prior_s = time.perf_counter() - start
        runs: dict[str, list[dict[str, float]]] = {}
        for pages, history, profile, persona in plans:
            for name, kwargs in methods.items():
                backend.clear_cache()
                for label, page in (("cold", pages[0]), ("warm", pages[1])):
                    start = time.perf_counter()
                    ranking, scores = rank_page(
                        backend, profile, persona, history, page, timeout_s=600, priors=priors,
                        **kwargs,
                    )  # fmt: skip
                    wall = time.perf_counter() - start
                    runs.setdefault(f"{name}_{label}", []).append(
                        {
                            "total_s": wall,
                            "prefix_s": scores.prefix_s,
                            "per_candidate_s": (scores.elapsed_s - scores.prefix_s) / len(page),
                            "prompt_tokens": scores.prompt_tokens,
                            "evaluated_tokens": scores.evaluated_tokens,
                            "tokens_per_s": scores.evaluated_tokens / max(scores.elapsed_s, 1e-9),
                            "fallback": float(ranking.fallback),
                        }
                    )
        summary = {}
        for key, items in runs.items():
            totals = [x["total_s"] for x in items]
            summary[key] = {
                "pages": len(items),
                "p50_s": float(np.percentile(totals, 50)),
                "p95_s": float(np.percentile(totals, 95)),
                **{
                    f"mean_{m}": float(statistics.fmean(x[m] for x in items))
                    for m in items[0]
                    if m != "total_s"
                },
            }
            log.info("%d threads %s: %s", threads, key, summary[key])
        summary["yesno_priors_ahead"] = {
            "movies": n_priors,
            "seconds": prior_s,
            "s_per_movie": prior_s / max(n_priors, 1),
        }
        out[f"threads={threads}"] = summary
        del backend
    return {
        "benchmark": "llm_rerank latency",
        "provenance": provenance(),
        "model": args.model,
        "candidates": N_CANDIDATES,
        "pages_per_setting": len(cases),
        "load_average_at_end": os.getloadavg(),
        "results": out,
        "note": (
            "cold: first page of a viewer (KV cache cleared); warm: the same viewer's next page "
            "(viewer prefix cached). Yes/no priors computed ahead (see yesno_priors_ahead)."
        ),
    }


# -- report --------------------------------------------------------------------------------------


def _header(result: dict[str, Any]) -> str:
    """The provenance lines, or the bare command of a result recorded before provenance."""
    if "provenance" in result:
        return markdown_header(result["provenance"])
    return f"`{result['command']}`"


def markdown(result: dict[str, Any]) -> str:
    if result["benchmark"].endswith("latency"):
        lines = [f"# LLM re-rank latency: {result['model']}", "", _header(result), ""]
        lines += ["| threads | method | p50 s | p95 s | prefix s | per candidate s | tok/s |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for threads, summary in result["results"].items():
            for key, s in summary.items():
                if key == "yesno_priors_ahead":
                    continue
                lines.append(
                    f"| {threads} | {key} | {s['p50_s']:.2f} | {s['p95_s']:.2f} | "
                    f"{s['mean_prefix_s']:.2f} | {s['mean_per_candidate_s']:.3f} | "
                    f"{s['mean_tokens_per_s']:.0f} |"
                )
        lines.append("")
        for threads, summary in result["results"].items():
            ahead = summary["yesno_priors_ahead"]
            lines.append(
                f"- {threads}: yes/no unknown-viewer priors, computed ahead: {ahead['movies']} "
                f"movies in {ahead['seconds']:.1f} s ({ahead['s_per_movie']:.3f} s a movie)"
            )
        lines += ["", result["note"]]
        return "\n".join(lines) + "\n"
    lines = [
        f"# LLM re-rank without generation: {result['model']} over EASE top-20",
        "",
        _header(result),
        "",
        f"Users scored: {result['users_scored']} (users whose held-out movie is in EASE's top "
        f"20); fallbacks {result['fallbacks']}. EASE recall@20 (the ceiling): test "
        f"{result['retriever_recall@20']['test']['recall@20']['mean']:.4f}, validation "
        f"{result['retriever_recall@20']['validation']['recall@20']['mean']:.4f}.",
        "",
        "Leave-one-out on ml-latest-small (protocol 1); EASE (λ = 200) proposes 20 candidates; "
        "the model sees the viewer's top genres and last 10 titles (MovieLens has no taste "
        "text) and one compact line of catalog facts per candidate. `yesno_raw`: Yes/No "
        "log-odds; `yesno`: minus the movie's log-odds for an unknown viewer; "
        "`verbalizer_forward`: label probabilities in the given order; `_debiased`: mean of "
        "the given and the reversed order; `_calibrated`: given order minus the mean label "
        "log-probability per position on validation users; `blend_*`: rank-normalised "
        "retriever + w x standardised score, w fitted on validation (grid with 0).",
        "",
        "Test split. `hit users`: mean over scored users; `population`: over all test users "
        "(exact when every hit user is scored, else hit-user values x the hit rate). "
        "Differences are paired bootstrap 95% intervals against the retriever.",
        "",
        "| ranking | NDCG@10 hit users | minus retriever | R@10 hit users | population NDCG@10 "
        "| relative |",
        "|---|---|---|---|---|---|",
    ]
    for name, entry in result["results"]["test"].items():
        n, r = entry["ndcg@10"], entry["recall@10"]
        rel = n["relative_change"]
        lines.append(
            f"| {name} | {_ci(n['hit_users'])} | {_ci(n['hit_users_minus_retriever'])} | "
            f"{_ci(r['hit_users'])} | {_ci(n['population'])} | "
            f"{'' if rel is None else f'{rel:+.1%}'} |"
        )
    lines += [
        "",
        "Blend weights fitted on validation (NDCG@10 of hit users per weight; the best weight is "
        "kept only when the paired bootstrap 95% interval of its validation gain is above 0):",
        "",
    ]
    for name, fit in result["fits_on_validation"].items():
        if name.startswith("blend_"):
            extra = ""
            if fit.get("best_weight"):
                low, high = fit["best_gain_ci95"]
                extra = f"; best w = {fit['best_weight']}, gain [{low:+.4f}, {high:+.4f}]"
            lines.append(f"- {name}: w = {fit['weight']} ({fit['validation_rows']} users{extra})")
    bias = result["position_bias_test"]
    if bias:
        lines += [
            "",
            "Position bias (test): the verbalizer's top pick is the first or the last listed "
            f"candidate for {bias['share_top_pick_first_or_last_shown_forward']:.0%} of users "
            f"(first {bias['share_top_pick_first_shown_forward']:.0%}, last "
            f"{bias['share_top_pick_last_shown_forward']:.0%}; a position-blind model: 10%); "
            "mean label log-probability by shown position (given order): "
            f"{bias['mean_logprob_by_shown_position_forward']}. Correlation of a user's "
            "scores in the given and the reversed order (1 = no position effect): "
            f"{bias['forward_vs_reversed_score_correlation_mean']:.2f}.",
        ]
    return "\n".join(lines) + "\n"


def _ci(d: dict[str, float]) -> str:
    return f"{d['mean']:.4f} [{d['low']:.4f}, {d['high']:.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["quality", "latency"])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--users", type=int, default=0, help="hit users per split; 0: all")
    parser.add_argument("--threads", default="1", help="llama.cpp threads; latency: e.g. 1,2")
    parser.add_argument("--pages", type=int, default=12, help="latency: viewers (2 pages each)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--analyse-only", action="store_true", help="quality: report the users cached so far"
    )
    parser.add_argument(
        "--shard", type=_shard, default=(0, 1), help="quality: K/N, this process's share"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = quality(args) if args.mode == "quality" else latency(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
