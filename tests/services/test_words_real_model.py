"""Words that are true, on the real catalog with the real model: a Korean page's reasons and
persona hold no claim the fact checker rejects (the services-level check issue 21 asks of the
browser test; the browser test stays model-free)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cinerec.config import Settings
from cinerec.db import repository as repo
from cinerec.llm.facts import check_text
from cinerec.services import users
from cinerec.services.platform import Platform
from cinerec.services.recommend import recommend_for_user

pytestmark = pytest.mark.slow

MODEL = os.environ.get("CINEREC_TEST_MODEL", "qwen2.5-coder-1.5b")
TICKED = (2571, 79132, 109487, 260)  # The Matrix, Inception, Interstellar, Star Wars


def test_a_korean_page_has_no_claim_the_fact_checker_rejects(
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
        {"name": "민지", "age": 29, "gender": "other", "taste": "공포 영화는 싫어요, SF 좋아요",
         "language": "ko"},
        max_taste_chars=settings.max_taste_chars,
    )  # fmt: skip
    _, user_id = users.save_profile(platform, token=None, profile=profile)
    for movie_id in TICKED:
        users.mark_watched(platform, user_id=user_id, movie_id=movie_id, rating=5)
    page = recommend_for_user(platform, user_id=user_id)
    assert page.fallback is False, page.error
    with platform.session() as session:
        watched = list(repo.get_movies(session, ids=list(TICKED)).values())
    cards = [c.movie for c in page.cards]
    reasons = [c.reason for c in page.cards if c.reason]
    assert len(reasons) == len(cards)  # every card has a reason (the model's or the template)
    for card in page.cards:
        rejected = [
            (c.claim.kind, c.claim.span, c.why)
            for c in check_text(
                card.reason or "", subject=card.movie, watched=watched, language="ko", page=cards
            )
            if c.ok is False
        ]
        assert rejected == [], (card.movie.title, card.reason)
        assert sum("\uac00" <= ch <= "\ud7a3" for ch in card.reason or "") >= 5
    persona = check_text(
        page.persona or "", subject=None, watched=watched, language="ko", persona=True,
        gender=None, taste=profile.taste,
    )  # fmt: skip
    assert [c for c in persona if c.ok is False] == [], page.persona
    for c in page.cards:
        print(f"  {c.movie.display_title}: {c.reason}")
