"""Review summaries from the real IMDB reviews on the real catalog, shown on a real page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cinerec.config import Settings
from cinerec.reviews.aspects.weak_labels import MOVIE_LEXICON
from cinerec.reviews.workflow import train_task
from cinerec.services import reviews
from cinerec.services.platform import Platform
from cinerec.web.app import create_app

pytestmark = pytest.mark.slow


def test_real_reviews_give_grounded_summaries_on_the_movie_page(
    prepared_home: Path, real_data_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(prepared_home / "cinerec.db", tmp_path / "cinerec.db")  # leave the shared home
    settings = Settings(
        home=tmp_path,
        data_dir=real_data_dir,
        llm_backend="none",
        recommender="als",
        warm_embeddings=False,
        review_summaries=False,
    )
    for task in ("imdb", "aspects"):  # smaller models than the product's, same code
        train_task(task, data_dir=real_data_dir, home=tmp_path, limit=4000)
    platform = Platform(settings)
    report = reviews.build_review_summaries(platform, data_dir=real_data_dir, limit=40)
    assert report.trained == () and report.movies >= 20 and report.reviews >= 3 * report.movies
    stored = reviews.summaries_for(platform, list(range(1, 300_000)))
    assert len(stored) == report.movies
    quoted = 0
    for summary in stored.values():
        assert summary.aspects and {a.aspect for a in summary.aspects} <= set(MOVIE_LEXICON.aspects)
        for quote in (q for a in summary.aspects for q in a.quotes):
            quoted += 1
            for start, end in quote.spans:
                assert re.fullmatch(
                    r"[^\W\d_]+(?:['’-][^\W\d_]+)*", quote.text[start:end]
                )  # a word
    assert quoted >= report.movies
    movie_id, summary = next(iter(stored.items()))
    with TestClient(create_app(settings, platform=platform)) as client:
        page = client.get(f"/movies/{movie_id}").text
    assert f'data-reviews-for="{movie_id}"' in page and "<mark>" in page
    assert reviews.review_note(summary).startswith(f"IMDb reviewers ({summary.n_reviews} reviews")
