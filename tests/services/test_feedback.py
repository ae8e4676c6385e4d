"""Card feedback: liked movies are folded in, disliked ones and their neighbours go down, undo
restores the page, and one user's feedback never reaches another's pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.data.types import Rated
from cinerec.db import repository as repo
from cinerec.errors import NotFoundError, ValidationError
from cinerec.llm.ranking.rerank import Candidate
from cinerec.services import recommend, users
from cinerec.services.feedback import (
    LIKED_RATING,
    PageFeedback,
    choices,
    demote,
    give_feedback,
    neighbour_penalties,
    page_feedback,
    undo_feedback,
)
from cinerec.services.platform import Platform
from cinerec.services.recommend import candidate_pool, recommend_for_user
from cinerec.text.taste import parse_taste
from tests.llm.fakes import FakeBackend
from tests.services.test_recommend import make_platform as make_untrained_platform
from tests.web.conftest import make_platform

ALL = 40  # every synthetic movie: positions stay comparable when nothing drops out


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = make_platform(tmp_path, FakeBackend())
    yield p
    p.engine.dispose()


def add_user(platform: Platform, name: str, watched: tuple[int, ...] = (1, 5)) -> int:
    profile = users.parse_profile({"name": name}, max_taste_chars=300)
    _, user_id = users.save_profile(platform, token=None, profile=profile)
    for movie_id in watched:  # movies 1, 5, 9 ... are one community's (synthetic data)
        users.mark_watched(platform, user_id=user_id, movie_id=movie_id, rating=5)
    return user_id


def pool(
    platform: Platform,
    user_id: int,
    *,
    history: list[Rated] | None = None,
    use_feedback: bool = True,
    n: int = ALL,
) -> list[int]:
    """The user's candidate pool as the next page reads it (with their stored feedback)."""
    with platform.session() as session:
        found = page_feedback(session, user_id=user_id) if use_feedback else None
        candidates = candidate_pool(
            platform,
            session,
            history=history if history is not None else repo.list_watched(session, user_id=user_id),
            taste=parse_taste(""),
            exclude=(),
            n=n,
            feedback=found,
        )
    return [c.movie.movie_id for c in candidates]


def nearest(platform: Platform, movie_id: int, k: int) -> list[int]:
    model, _ = platform.recommender
    return [s.movie_id for s in model.recommend([Rated(movie_id)], k)]


def community(movie_id: int) -> int:
    return movie_id % 4


def test_a_liked_movie_is_folded_into_the_history(platform: Platform) -> None:
    user_id = add_user(platform, "Ada")
    before = pool(platform, user_id, n=10)
    give_feedback(platform, user_id=user_id, movie_id=2, kind="like")
    after = pool(platform, user_id, n=10)
    watched = [Rated(1, 5.0), Rated(5, 5.0)]
    assert after == pool(
        platform, user_id, history=[*watched, Rated(2, LIKED_RATING)], use_feedback=False, n=10
    )
    assert 2 not in after  # now part of the history
    liked_side = sum(community(m) == community(2) for m in after)
    assert liked_side > sum(community(m) == community(2) for m in before)


def test_a_disliked_movie_goes_and_its_neighbours_move_down(platform: Platform) -> None:
    user_id = add_user(platform, "Ada", watched=(1, 2, 5, 6))  # two communities: 1 and 2
    before = pool(platform, user_id)
    disliked = before[0]
    close = [m for m in nearest(platform, disliked, 5) if m in before]
    assert close
    give_feedback(platform, user_id=user_id, movie_id=disliked, kind="dislike")
    after = pool(platform, user_id)
    assert disliked not in after
    moved = [after.index(m) - before.index(m) for m in close]
    assert min(moved) >= 0 and sum(moved) / len(moved) >= 3, (before, after, close)
    side = community(disliked)
    assert sum(community(m) == side for m in after[:10]) < sum(
        community(m) == side for m in before[:10]
    )


def test_neighbour_penalties_are_graded_and_skip_unknown_movies(platform: Platform) -> None:
    model, _ = platform.recommender
    penalties = neighbour_penalties(model, [1], k=10)
    ranked = nearest(platform, 1, 10)
    assert [penalties[m] for m in ranked] == pytest.approx([1 - r / 10 for r in range(10)])
    assert neighbour_penalties(model, [424242], k=10) == {}  # unknown: no neighbours


def test_without_a_trained_recommender_nothing_is_demoted(tmp_path: Path) -> None:
    platform = make_untrained_platform(tmp_path, None)
    with platform.session() as session:
        movies = repo.get_movies(session, ids=[1, 2])
    candidates = [Candidate(movies[1], 0.9), Candidate(movies[2], 0.5)]
    assert demote(platform, candidates, [1]) == candidates
    platform.engine.dispose()


def test_undo_restores_the_page(platform: Platform) -> None:
    user_id = add_user(platform, "Ada")
    before = pool(platform, user_id)
    give_feedback(platform, user_id=user_id, movie_id=before[0], kind="dislike")
    give_feedback(platform, user_id=user_id, movie_id=2, kind="like")
    assert pool(platform, user_id) != before
    assert choices(platform, user_id=user_id) == {before[0]: "dislike", 2: "like"}
    assert undo_feedback(platform, user_id=user_id, movie_id=before[0])
    assert undo_feedback(platform, user_id=user_id, movie_id=2)
    assert not undo_feedback(platform, user_id=user_id, movie_id=2)  # nothing left to undo
    assert choices(platform, user_id=user_id) == {}
    assert pool(platform, user_id) == before


def test_a_new_choice_replaces_the_old_one(platform: Platform) -> None:
    user_id = add_user(platform, "Ada")
    give_feedback(platform, user_id=user_id, movie_id=3, kind="dislike")
    give_feedback(platform, user_id=user_id, movie_id=3, kind="like")
    assert choices(platform, user_id=user_id) == {3: "like"}
    with platform.session() as session:
        assert page_feedback(session, user_id=user_id) == PageFeedback(liked=(3,))


def test_another_users_feedback_never_leaks(platform: Platform) -> None:
    ada, bob = add_user(platform, "Ada"), add_user(platform, "Bob")
    before = pool(platform, ada)
    give_feedback(platform, user_id=bob, movie_id=before[0], kind="dislike")
    give_feedback(platform, user_id=bob, movie_id=2, kind="like")
    assert pool(platform, ada) == before
    assert choices(platform, user_id=ada) == {}
    assert not undo_feedback(platform, user_id=ada, movie_id=2)  # Bob's choice stays
    assert choices(platform, user_id=bob) == {before[0]: "dislike", 2: "like"}


def test_bad_feedback_is_refused_and_changes_nothing(platform: Platform) -> None:
    ada, bob = add_user(platform, "Ada"), add_user(platform, "Bob")
    page = recommend_for_user(platform, user_id=bob, reasons=False)
    with pytest.raises(ValidationError, match="Unknown feedback"):
        give_feedback(platform, user_id=ada, movie_id=3, kind="love")
    with pytest.raises(NotFoundError, match="Movie 424242"):
        give_feedback(platform, user_id=ada, movie_id=424242, kind="like")
    with pytest.raises(NotFoundError, match="run"):  # Bob's run is not Ada's
        give_feedback(platform, user_id=ada, movie_id=3, kind="like", run_id=page.run_id)
    assert choices(platform, user_id=ada) == {}


def test_the_next_page_uses_the_feedback_at_once(platform: Platform) -> None:
    user_id = add_user(platform, "Ada")
    first = recommend_for_user(platform, user_id=user_id, reasons=False)
    shown = [c.movie.movie_id for c in first.cards]
    disliked, liked = shown[0], shown[1]
    give_feedback(platform, user_id=user_id, movie_id=disliked, kind="dislike", run_id=first.run_id)
    give_feedback(platform, user_id=user_id, movie_id=liked, kind="like", run_id=first.run_id)
    second = recommend_for_user(platform, user_id=user_id, more=True, reasons=False)
    with platform.session() as session:
        expected = candidate_pool(
            platform,
            session,
            history=[Rated(1, 5.0), Rated(5, 5.0)],
            taste=parse_taste(""),
            exclude=shown,
            n=platform.settings.n_candidates,
            feedback=PageFeedback(liked=(liked,), disliked=(disliked,)),
        )
    page_size = platform.settings.page_size
    assert [c.movie.movie_id for c in second.cards] == [
        c.movie.movie_id for c in expected[:page_size]
    ]
    assert not {c.movie.movie_id for c in second.cards} & set(shown)


def test_a_page_carries_its_cards_standing_choices(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chosen movie never comes back as a card (it is folded into the history or excluded), so
    # a card has a choice only when one is given while its page is made: here the pool's read
    # of the feedback is made to miss it.
    user_id = add_user(platform, "Ada")
    shown = [c.movie.movie_id for c in recommend_for_user(platform, user_id=user_id).cards]
    give_feedback(platform, user_id=user_id, movie_id=shown[0], kind="like")
    give_feedback(platform, user_id=user_id, movie_id=1, kind="dislike")  # watched: no card
    monkeypatch.setattr(recommend, "page_feedback", lambda session, user_id: PageFeedback())
    page = recommend_for_user(platform, user_id=user_id, reasons=False)
    assert shown[0] in {c.movie.movie_id for c in page.cards}
    assert page.choices == {shown[0]: "like"}
