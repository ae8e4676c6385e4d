"""Does card feedback make the next page better? Page 2 NDCG@10 with and without it.

Protocol (ml-latest-small, user-disjoint):

- 20% of the users with at least 10 ratings are held out (``cold_start_split``, fixed seed);
  the recommender is trained on the other users' ratings, and the catalog's popularity counts
  (the page's fallback order) come from them too;
- per held-out user, k=5 ticks are drawn without replacement from the movies they rated, with
  probability proportional to each movie's popularity among the training users (+1), and
  ticked without a rating, as on the page; the targets are their other movies rated >= 4.0;
- page 1 is the top 10 of the page's own candidate pool
  (:func:`cinerec.services.recommend.candidate_pool`, empty taste, the platform's recommender);
- simulated feedback: "More like this" on every shown target, "Not for me" on every shown movie
  the user rated <= 2.5;
- page 2 is the next 10 of the same pool excluding page 1, once without feedback and once with
  it (:class:`cinerec.services.feedback.PageFeedback`, the object the page builds from the
  stored feedback), plus each half alone; NDCG@10 of page 2 against the targets not shown on
  page 1, with 95% bootstrap intervals and the paired difference
  (:mod:`cinerec.evaluation.metrics`, :mod:`cinerec.evaluation.bootstrap`).

Target (issue 20): page 2 NDCG@10 at least +15% with feedback.

    PYTHONPATH=src:. python benchmarks/feedback.py --models als,ease
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script
import numpy as np
import pandas as pd

from benchmarks.provenance import provenance  # noqa: E402
from cinerec.config import Settings
from cinerec.data.catalog import load_catalog
from cinerec.data.movielens import load_ratings
from cinerec.data.paths import resolve_data_dir
from cinerec.data.types import Interactions, Rated
from cinerec.db import repository as repo
from cinerec.evaluation.bootstrap import (
    ConfidenceInterval,
    bootstrap_ci,
    bootstrap_statistic_ci,
    paired_difference_ci,
)
from cinerec.evaluation.metrics import ndcg_of_ranking
from cinerec.evaluation.splits import cold_start_split
from cinerec.recommenders.artifacts import train_artifact
from cinerec.recommenders.base import TrainingOptions
from cinerec.services import feedback as fb
from cinerec.services.platform import Platform
from cinerec.services.recommend import candidate_pool
from cinerec.text.taste import parse_taste

DATASET = "ml-latest-small"
K_TICKS = 5
PAGE = 10
LIKE_AT = 4.0  # a target: rated at least this
DISLIKE_AT = 2.5  # "Not for me": rated at most this
TARGET_GAIN = 0.15
ARMS = ("without", "with", "like_only", "dislike_only")


@dataclass(frozen=True)
class Viewer:
    """One held-out user: the ticked movies, the targets and every rating they gave."""

    user_id: int
    ticks: tuple[int, ...]
    targets: frozenset[int]
    ratings: dict[int, float]


def viewers(held_out: pd.DataFrame, popularity: pd.Series, *, seed: int) -> list[Viewer]:
    """The held-out users with k ticks drawn by popularity and their targets (>= 4.0)."""
    rng = np.random.default_rng(seed)
    out = []
    for user_id, rows in held_out.groupby("user_id", sort=True):
        items = rows["item_id"].to_numpy()
        weights = popularity.reindex(items).fillna(0).to_numpy() + 1.0
        ticks = rng.choice(items, size=K_TICKS, replace=False, p=weights / weights.sum())
        ratings = dict(zip(items.tolist(), rows["rating"].astype(float).tolist(), strict=True))
        targets = {m for m, r in ratings.items() if r >= LIKE_AT} - set(ticks.tolist())
        if targets:
            chosen = tuple(int(t) for t in ticks)
            out.append(Viewer(int(user_id), chosen, frozenset(targets), ratings))
    return out


def digest(users: Sequence[Viewer]) -> str:
    """sha256 of every held-out user's ticks and targets: the split, reproducibly named."""
    h = hashlib.sha256()
    for v in users:
        h.update(f"{v.user_id}:{list(v.ticks)}:{sorted(v.targets)}\n".encode())
    return h.hexdigest()


def build_platform(
    home: Path, data_dir: Path, train: pd.DataFrame, model: str, threads: int, seed: int
) -> tuple[Platform, float]:
    """A platform whose catalog popularity and recommender come from the training users only;
    returns it with the training seconds."""
    settings = Settings(
        home=home,
        data_dir=data_dir,
        llm_backend="none",
        recommender=model,
        page_size=PAGE,
        warm_embeddings=False,
        review_summaries=False,
        prefill_reasons=False,
    )
    started = time.perf_counter()
    trained = train_artifact(
        model,
        Interactions(train),
        settings.artifacts_dir / model,
        options=TrainingOptions(seed=seed, threads=threads),
    )
    seconds = time.perf_counter() - started
    platform = Platform(settings, llm=None, recommender=trained)
    platform.migrate()
    counts = train["item_id"].value_counts()
    with platform.session() as session:
        repo.upsert_movies(
            session,
            movies=load_catalog(data_dir, DATASET),
            popularity={int(k): int(v) for k, v in counts.items()},
        )
    return platform, seconds


def page(
    platform: Platform,
    history: list[Rated],
    exclude: Sequence[int],
    feedback: fb.PageFeedback | None = None,
) -> list[int]:
    """The page's top ``PAGE`` movie ids, as the page makes them (rank method none)."""
    with platform.session() as session:
        pool = candidate_pool(
            platform,
            session,
            history=history,
            taste=parse_taste(""),
            exclude=exclude,
            n=platform.settings.n_candidates,
            feedback=feedback,
        )
    return [c.movie.movie_id for c in pool[:PAGE]]


def run_model(platform: Platform, users: Sequence[Viewer]) -> dict[str, Any]:
    """Per-user page-2 NDCG@10 of every arm, and what the simulated feedback was."""
    ndcg: dict[str, list[float]] = {arm: [] for arm in ARMS}
    likes, dislikes, seconds = [], [], []
    for v in users:
        history = [Rated(m) for m in v.ticks]  # ticked without a rating, as on the page
        first = page(platform, history, ())
        liked = tuple(m for m in first if m in v.targets)
        disliked = tuple(m for m in first if v.ratings.get(m, 5.0) <= DISLIKE_AT)
        likes.append(len(liked))
        dislikes.append(len(disliked))
        relevant = v.targets - set(first)
        arms = {
            "without": None,
            "with": fb.PageFeedback(liked=liked, disliked=disliked),
            "like_only": fb.PageFeedback(liked=liked),
            "dislike_only": fb.PageFeedback(disliked=disliked),
        }
        for arm, given in arms.items():
            started = time.perf_counter()
            second = page(platform, history, first, given)
            if arm == "with":
                seconds.append(time.perf_counter() - started)
            ndcg[arm].append(ndcg_of_ranking(second, relevant, PAGE))
    return {
        "ndcg": {arm: np.asarray(values) for arm, values in ndcg.items()},
        "likes": np.asarray(likes),
        "dislikes": np.asarray(dislikes),
        "page2_seconds_with_feedback": float(np.median(seconds)),
    }


def relative_gain(a: np.ndarray, b: np.ndarray, *, resamples: int, seed: int) -> ConfidenceInterval:
    """``mean(a) / mean(b) - 1`` over paired users, with its bootstrap interval."""

    def statistic(idx: np.ndarray) -> np.ndarray:
        return a[idx].mean(axis=1) / np.maximum(b[idx].mean(axis=1), 1e-12) - 1.0

    return bootstrap_statistic_ci(
        statistic, float(a.mean() / b.mean() - 1.0), len(a), resamples=resamples, seed=seed
    )


def summarise(raw: dict[str, Any], *, resamples: int, seed: int) -> dict[str, Any]:
    ndcg = raw["ndcg"]
    base = ndcg["without"]
    out: dict[str, Any] = {
        "page2_ndcg@10": {
            arm: bootstrap_ci(v, resamples=resamples, seed=seed).as_dict()
            for arm, v in ndcg.items()
        },
        "difference_vs_without": {
            arm: paired_difference_ci(v, base, resamples=resamples, seed=seed).as_dict()
            for arm, v in ndcg.items()
            if arm != "without"
        },
        "relative_gain_vs_without": {
            arm: relative_gain(v, base, resamples=resamples, seed=seed).as_dict()
            for arm, v in ndcg.items()
            if arm != "without"
        },
        "feedback": {
            "likes_per_user": float(raw["likes"].mean()),
            "dislikes_per_user": float(raw["dislikes"].mean()),
            "users_with_any": int(((raw["likes"] + raw["dislikes"]) > 0).sum()),
            "users_with_a_like": int((raw["likes"] > 0).sum()),
            "users_with_a_dislike": int((raw["dislikes"] > 0).sum()),
        },
        "page2_seconds_with_feedback_median": round(raw["page2_seconds_with_feedback"], 4),
    }
    gain = out["relative_gain_vs_without"]["with"]
    out["target_met"] = bool(gain["mean"] >= TARGET_GAIN)
    out["target_met_at_interval_low"] = bool(gain["low"] >= TARGET_GAIN)
    return out


def _fmt(ci: dict[str, float]) -> str:
    return f"{ci['mean']:.4f} [{ci['low']:.4f}, {ci['high']:.4f}]"


def _pct(ci: dict[str, float]) -> str:
    return f"{ci['mean']:+.1%} [{ci['low']:+.1%}, {ci['high']:+.1%}]"


def markdown(result: dict[str, Any]) -> str:
    split = result["split"]
    lines = [
        "# Card feedback: page 2 NDCG@10 with and without it",
        "",
        f"Command: `{result['command']}`; git {result['git_sha']}; {result['cpu_count']} cores; "
        f"{result['date_utc']}; packages {json.dumps(result['packages'])}.",
        "",
        f"{DATASET}, user-disjoint: {split['held_out_users']} held-out users with targets "
        f"(seed {split['seed']}, {split['holdout_fraction']:.0%} of users with >= "
        f"{split['min_items']} ratings; digest `{split['digest'][:16]}`), "
        f"{split['train_ratings']:,} training ratings. k={K_TICKS} ticks by popularity, "
        f'targets rated >= {LIKE_AT}; "More like this" on shown targets, "Not for me" on '
        f"shown movies rated <= {DISLIKE_AT}. Feedback settings: "
        f"{json.dumps(result['feedback_config'])}. "
        f"95% bootstrap intervals over users ({result['resamples']} resamples).",
        "",
        "| model | page 2 without | page 2 with | difference | relative | like only | "
        "dislike only | +15% met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["models"].items():
        nd, diff = r["page2_ndcg@10"], r["difference_vs_without"]
        rel = r["relative_gain_vs_without"]
        lines.append(
            f"| {name} | {_fmt(nd['without'])} | {_fmt(nd['with'])} | {_fmt(diff['with'])} | "
            f"{_pct(rel['with'])} | {_pct(rel['like_only'])} | {_pct(rel['dislike_only'])} | "
            f"{'yes' if r['target_met'] else 'no'}"
            f"{' (also at the interval low)' if r['target_met_at_interval_low'] else ''} |"
        )
    lines += [
        "",
        "| model | likes / user | dislikes / user | users with any | train s | page 2 s |",
    ]
    lines.append("|---|---|---|---|---|---|")
    for name, r in result["models"].items():
        f = r["feedback"]
        lines.append(
            f"| {name} | {f['likes_per_user']:.2f} | {f['dislikes_per_user']:.2f} | "
            f"{f['users_with_any']} / {split['held_out_users']} | {r['train_seconds']:.1f} | "
            f"{r['page2_seconds_with_feedback_median']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="als,ease")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/feedback"))
    args = parser.parse_args()

    data_dir = resolve_data_dir(args.data_dir)
    frame = load_ratings(data_dir, DATASET).frame
    split = cold_start_split(frame, holdout_fraction=args.holdout, min_items=10, seed=args.seed)
    popularity = split.train["item_id"].value_counts()
    users = viewers(split.held_out, popularity, seed=args.seed)
    result: dict[str, Any] = {
        "provenance": (record := provenance()),
        "command": record["command"],
        "git_sha": record["git_sha"] + ("-dirty" if record["git_dirty"] else ""),
        "packages": record["packages"],
        "cpu_count": os.cpu_count(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "resamples": args.resamples,
        "split": {
            "dataset": DATASET,
            "seed": args.seed,
            "holdout_fraction": args.holdout,
            "min_items": 10,
            "held_out_users": len(users),
            "train_users": int(split.train["user_id"].nunique()),
            "train_ratings": len(split.train),
            "digest": digest(users),
        },
        "protocol": {
            "ticks": K_TICKS,
            "page": PAGE,
            "target_rating_at_least": LIKE_AT,
            "dislike_rating_at_most": DISLIKE_AT,
            "target_relative_gain": TARGET_GAIN,
        },
        "feedback_config": {
            "liked_rating": fb.LIKED_RATING,
            "neighbours": fb.NEIGHBOURS,
            "demotion": fb.DEMOTION,
        },
        "models": {},
    }
    for name in args.models.split(","):
        with tempfile.TemporaryDirectory(prefix="cinerec-feedback-") as home:
            platform, seconds = build_platform(
                Path(home), data_dir, split.train, name, args.threads, args.seed
            )
            raw = run_model(platform, users)
            platform.engine.dispose()
        summary = summarise(raw, resamples=args.resamples, seed=args.seed)
        summary["train_seconds"] = round(seconds, 2)
        result["models"][name] = summary
        print(name, json.dumps(summary["relative_gain_vs_without"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
