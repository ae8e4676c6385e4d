"""The flow on the real catalog with the real embedded model: persona + grounded re-rank."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from cinerec.config import Settings
from cinerec.db import repository as repo
from cinerec.db.tables import MovieRow
from cinerec.llm.grounding import find_unknown_titles
from cinerec.services import users
from cinerec.services.platform import Platform
from cinerec.services.recommend import recommend_for_user

pytestmark = pytest.mark.slow

MODEL = os.environ.get("CINEREC_TEST_MODEL", "qwen2.5-coder-1.5b")


def test_real_model_persona_and_rerank_stay_in_the_catalog(
    prepared_home: Path, real_data_dir: Path
) -> None:
    settings = Settings(
        home=prepared_home,
        data_dir=real_data_dir,
        llm_model=MODEL,
        llm_threads=2,
        llm_timeout_s=300,
    )
    platform = Platform(settings)
    profile = users.parse_profile(
        {
            "name": "Jun",
            "age": 34,
            "gender": "male",
            "taste": "slow-burn sci-fi, no horror",
            "language": "en",
        },
        max_taste_chars=settings.max_taste_chars,
    )
    _, user_id = users.save_profile(platform, token=None, profile=profile)
    for movie_id, rating in (
        (2571, 5),
        (541, 5),
        (1200, 4),
        (260, 4),
    ):  # Matrix, Blade Runner, Aliens, Star Wars
        users.mark_watched(platform, user_id=user_id, movie_id=movie_id, rating=rating)

    start = time.perf_counter()
    page = recommend_for_user(platform, user_id=user_id)
    elapsed = time.perf_counter() - start

    assert page.fallback is False, page.error
    assert page.persona_fallback is False
    assert page.persona and 20 <= len(page.persona) <= 400
    assert len(page.cards) == settings.page_size
    with platform.session() as session:
        catalog = repo.get_movies(session, ids=[c.movie.movie_id for c in page.cards])
        all_titles = list(session.scalars(select(MovieRow.title)))
    assert len(catalog) == len(page.cards)  # every returned id is a catalog movie
    assert len({c.movie.movie_id for c in page.cards}) == len(page.cards)
    assert all("Horror" not in c.movie.genres for c in page.cards)
    assert sum(bool(c.reason) for c in page.cards) >= settings.page_size // 2
    people = [p for c in page.cards for p in (c.movie.director or "", *c.movie.cast)]
    allowed = [*people, *(g for c in page.cards for g in c.movie.genres), "Jun"]
    for text in [page.persona, *(c.reason or "" for c in page.cards)]:
        assert find_unknown_titles(text, all_titles, allowed=allowed) == [], text
    print(
        f"\nreal model {MODEL}: page with persona and reasons in {elapsed:.1f} s; "
        f"timings {page.timings}"
    )
    print("persona:", page.persona)
    for c in page.cards[:3]:
        print(f"  {c.movie.display_title}: fit={c.fit_score} reason={c.reason}")
