"""Genre view of review sentiment: do some genres read more negative than their ratings?

Run from the repository root::

    python benchmarks/review_genres.py

IMDB reviews are linked to ml-latest-small movies through ``links.csv`` (the review URLs carry
the IMDb id). Each review is scored by a TF-IDF NB-LR model that never saw it (cross-fitted:
the model trained on IMDB's train half scores the test half and the other way round; the halves
are movie-disjoint). :func:`benchmarks.genre_view.genre_table` then compares the score with
the reviewer's own 1-10 rating per genre. Results: ``results/review_genres.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from provenance import markdown_header, provenance

from benchmarks.genre_view import genre_table, link_reviews, plot_genre_view, score_by_rating
from cinerec.data.movielens import load_links, load_movielens_movies
from cinerec.data.paths import resolve_data_dir
from cinerec.data.reviews import load_imdb
from cinerec.reviews.sentiment import TfidfSentimentModel
from cinerec.reviews.workflow import SENTIMENT_CONFIGS

ROOT = Path(__file__).resolve().parent
CURVE_GENRES = ["Drama", "Romance", "War", "Comedy", "Horror", "Action"]


def cross_fitted_scores(frame: pd.DataFrame, linked: pd.DataFrame) -> pd.Series:
    """P(positive) of each linked review from the model trained on the other IMDB half."""
    scores = pd.Series(np.nan, index=linked.index)
    for held in ("train", "test"):
        fit_on = frame[frame["split"] != held]
        model = TfidfSentimentModel(SENTIMENT_CONFIGS["imdb"]).fit(
            fit_on["text"].tolist(), fit_on["label"].to_numpy()
        )
        part = linked[linked["split"] == held]
        scores.loc[part.index] = model.predict_proba(part["text"].tolist())[:, 1]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--min-reviews", type=int, default=150)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "review_genres")
    args = parser.parse_args()
    started = time.perf_counter()
    data_dir = resolve_data_dir(args.data_dir)
    frame = load_imdb(data_dir)
    linked = link_reviews(frame, load_links(data_dir))
    movies = load_movielens_movies(data_dir)
    linked["score"] = cross_fitted_scores(frame, linked)
    table = genre_table(linked, movies, min_reviews=args.min_reviews)
    curves = score_by_rating(linked, movies, CURVE_GENRES)
    plot = plot_genre_view(table, curves, args.out.with_suffix(".png"))
    overall = float(linked["score"].corr(linked["rating"]))
    report = {
        "reviews": len(frame),
        "linked_reviews": len(linked),
        "linked_movies": int(linked["movie_id"].nunique()),
        "score_rating_correlation": overall,
        "seconds": time.perf_counter() - started,
        "genres": table.to_dict(orient="records"),
        "score_by_rating": {str(k): v for k, v in curves.round(4).to_dict().items()},
        "provenance": provenance(),
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    lines = [
        "# Review sentiment by genre",
        "",
        markdown_header(report["provenance"]),
        f"{len(linked):,} of {len(frame):,} IMDB reviews link to {report['linked_movies']} "
        f"ml-latest-small movies. Score = cross-fitted TF-IDF P(positive); correlation with "
        f"the reviewer's rating over all linked reviews: {overall:.3f}.",
        "Residual = score minus the mean score of all reviews with the same rating; "
        "95% bootstrap intervals over movies.",
        "",
        f"![genre view]({plot.name})",
        "",
        "| genre | reviews | movies | mean rating | mean score | corr | residual (95% CI) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.genre} | {row.reviews} | {row.movies} | {row.mean_rating:.2f} | "
            f"{row.mean_score:.3f} | {row.correlation:.3f} | {row.residual:+.3f} "
            f"[{row.residual_low:+.3f}, {row.residual_high:+.3f}] |"
        )
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
