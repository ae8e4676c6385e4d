"""recommend: warming a viewer's reasons prompt ahead of their next page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cinerec.config import Settings
from cinerec.data.types import Movie, Rated, ScoredItem
from cinerec.db import repository as repo
from cinerec.llm.backends.base import Completion, Message
from cinerec.llm.backends.cancel import CancelToken
from cinerec.llm.persona import UserProfile
from cinerec.llm.reasons import reason_messages
from cinerec.recommenders.artifacts import ArtifactInfo
from cinerec.services import recommend, users
from cinerec.services.chat_memory import warm_up as chat_warm_up
from cinerec.services.platform import Platform
from cinerec.services.recommend import candidate_pool, recommend_for_user, warm_reasons
from cinerec.text.taste import parse_taste
from tests.llm.fakes import FakeBackend

MOVIES = [Movie(movie_id=i, title=f"Film {i}", year=2000 + i, genres=("Drama",)) for i in (1, 2, 3)]


class GatedBackend(FakeBackend):
    """Answers every call with ``{``; the first call waits until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__(caches_prefix=True)
        self.entered, self.release = threading.Event(), threading.Event()

    def complete(self, messages: list[Message], **kwargs: Any) -> Completion:
        if not self.calls:
            self.entered.set()
            assert self.release.wait(10)
        self.queue("{")
        return super().complete(messages, **kwargs)


class UntilCancelled(FakeBackend):
    """A model that takes cancel tokens (``can_cancel``): each call runs until its token is
    cancelled (then raises Cancelled, as the real backends do) or 10 s pass; ``stopped_at`` is
    the :func:`time.monotonic` time it saw the token cancelled."""

    can_cancel = True

    def __init__(self) -> None:
        super().__init__(caches_prefix=True)
        self.entered = threading.Event()
        self.stopped_at: float | None = None

    def complete(
        self, messages: list[Message], *, cancel: CancelToken | None = None, **kwargs: Any
    ) -> Completion:
        self.entered.set()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if cancel is not None and cancel.cancelled:
                self.stopped_at = time.monotonic()
                cancel.check("The fake model call")
            time.sleep(0.01)
        self.queue("{")
        return super().complete(messages, **kwargs)


def make_platform(tmp_path: Path, backend: FakeBackend | None, **settings: Any) -> Platform:
    s = Settings(home=tmp_path, llm_backend="none", warm_embeddings=False, **settings)
    platform = Platform(s, llm=backend)
    platform.migrate()
    with platform.session() as session:
        repo.upsert_movies(session, movies=MOVIES, popularity={})
    return platform


def add_user(platform: Platform, name: str, language: str = "en") -> int:
    profile = users.parse_profile(
        {"name": name, "age": 30, "taste": "quiet dramas", "language": language},
        max_taste_chars=300,
    )
    _, user_id = users.save_profile(platform, token=None, profile=profile)
    users.mark_watched(platform, user_id=user_id, movie_id=1, rating=5)
    return user_id


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[tuple[Platform, GatedBackend]]:
    backend = GatedBackend()
    platform = make_platform(tmp_path, backend)
    yield platform, backend
    backend.release.set()
    platform.engine.dispose()


def test_warm_up_sends_the_shared_system_message_of_the_reasons_prompt(
    gated: tuple[Platform, GatedBackend],
) -> None:
    # No trained recommender here: the next page cannot be predicted, the shared part is warmed.
    platform, backend = gated
    backend.release.set()
    user_id = add_user(platform, "Ada")
    assert warm_reasons(platform, user_id=user_id) == 1
    (call,) = backend.calls
    assert call.max_tokens == 1
    profile = UserProfile(name="Ada", age=30, taste="quiet dramas")
    card = reason_messages(profile, "", [MOVIES[0]], MOVIES[1])
    assert call.messages[0] == card[0]  # the same system message as a card's prompt
    assert call.messages[1].content == "" and "Film 2" in card[1].content


def test_warm_up_evaluates_the_whole_prompt_of_the_next_pages_first_card(tmp_path: Path) -> None:
    backend = FakeBackend(caches_prefix=True)
    platform = make_platform(tmp_path, backend, page_size=1, n_candidates=1)
    profile = users.parse_profile({"name": "Ada", "taste": "quiet dramas"}, max_taste_chars=300)
    _, user_id = users.save_profile(platform, token=None, profile=profile)  # nothing watched
    shown: list[int] = []
    for more in (False, True):  # page 1 after the profile change, then the "more" page
        backend.queue("{")
        assert warm_reasons(platform, user_id=user_id) == 1
        warmed = backend.calls[-1]
        backend.queue('{"reason": "A quiet drama for a viewer who asked for one."}', "{")
        page = recommend_for_user(platform, user_id=user_id, more=more, reasons=True)
        (card,) = page.cards
        # Page 1 writes the (stale) persona after its reason, so its reason call is second last.
        first_reason_call = backend.calls[-2 if not more else -1]
        assert warmed.messages == first_reason_call.messages  # byte for byte: nothing new
        assert card.movie.title in warmed.messages[-1].content
        shown.append(card.movie.movie_id)
    assert len(set(shown)) == 2  # the second warm-up predicted the next page, not page 1 again
    platform.engine.dispose()


def test_requests_during_a_warm_up_coalesce_to_the_newest_user(
    gated: tuple[Platform, GatedBackend],
) -> None:
    platform, backend = gated
    # The warm-up without a predicted card is the reasons' system message, one per language:
    # the queued Korean viewer's would show up if it were not replaced.
    first, second, third = (
        add_user(platform, name, language)
        for name, language in (("Ada", "en"), ("Bo", "ko"), ("Cy", "en"))
    )
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(warm_reasons(platform, user_id=first)))
    worker.start()
    assert backend.entered.wait(10)
    assert warm_reasons(platform, user_id=second) == 0  # queued behind the running warm-up
    assert warm_reasons(platform, user_id=third) == 0  # replaces the queued one
    backend.release.set()
    worker.join(10)
    assert done == [2]
    warmed = [c.messages[0].content for c in backend.calls]
    assert all("English" in w for w in warmed) and not any("한국어" in w for w in warmed)


def test_a_newer_request_stops_a_warm_up_before_its_model_call(
    gated: tuple[Platform, GatedBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    platform, backend = gated
    backend.release.set()
    first, second = add_user(platform, "Ada", "en"), add_user(platform, "Bo", "ko")
    platform.state.deferred.take()  # this test calls warm_reasons itself
    reading, go_on = threading.Event(), threading.Event()
    predict = recommend._predicted_first_card

    def slow_prediction(platform_: Platform, session: Any, user: Any) -> Any:
        if user.id == first:  # Ada's warm-up is between its reads and its model call
            reading.set()
            assert go_on.wait(10)
        return predict(platform_, session, user)

    monkeypatch.setattr(recommend, "_predicted_first_card", slow_prediction)
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(warm_reasons(platform, user_id=first)))
    worker.start()
    assert reading.wait(10)
    assert warm_reasons(platform, user_id=second) == 0  # supersedes Ada's
    go_on.set()
    worker.join(10)
    assert done == [1]
    (call,) = backend.calls  # Ada's prompt was never sent: only Bo's (Korean) was warmed
    assert "한국어" in call.messages[0].content


def test_shutdown_does_not_wait_for_the_queued_warm_ups(
    gated: tuple[Platform, GatedBackend],
) -> None:
    platform, backend = gated
    for name in ("Ada", "Bo", "Cy", "Di"):
        add_user(platform, name)  # each profile queues a warm-up for after the answer
    assert len(platform.state.deferred.tasks) == 4
    ran: list[int] = []
    worker = threading.Thread(target=lambda: ran.append(platform.run_deferred()))
    worker.start()
    assert backend.entered.wait(10)  # the first warm-up is in its model call
    platform.close()
    backend.release.set()  # the call running is not interrupted
    worker.join(5)
    assert not worker.is_alive() and ran == [1]
    assert len(backend.calls) == 1  # the three queued after it were dropped
    add_user(platform, "Ed")
    assert platform.run_deferred() == 0 and len(backend.calls) == 1  # nothing starts any more
    assert warm_reasons(platform, user_id=1) == 0
    assert chat_warm_up(platform, user_id=1) is False


@pytest.mark.parametrize("kind", ["reasons", "chat"])
def test_shutdown_stops_the_running_warm_up_call(tmp_path: Path, kind: str) -> None:
    """A warm-up whose model call is running when the platform closes is cancelled: the call
    sees its token within a bounded time instead of running to its end (10 s here)."""
    backend = UntilCancelled()
    platform = make_platform(tmp_path, backend)
    user_id = add_user(platform, "Ada")
    platform.state.deferred.take()  # this test starts the warm-up itself
    done: list[object] = []
    if kind == "reasons":
        worker = threading.Thread(
            target=lambda: done.append(warm_reasons(platform, user_id=user_id))
        )
        worker.start()
    else:
        assert chat_warm_up(platform, user_id=user_id)
    assert backend.entered.wait(10), "the warm-up never called the model"
    closed = time.monotonic()
    platform.close()
    deadline = time.monotonic() + 5
    while backend.stopped_at is None:
        assert time.monotonic() < deadline, "the running warm-up was not cancelled"
        time.sleep(0.01)
    assert backend.stopped_at - closed < 0.5
    if kind == "reasons":
        worker.join(5)
        assert not worker.is_alive() and done == [0]  # stopped: nothing was warmed
    else:
        deadline = time.monotonic() + 5
        while platform.state.chat_warm_up.running:  # the warm-up thread ends
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert backend.calls == []  # no call ran to its end
    platform.engine.dispose()


def test_without_shutdown_the_queued_warm_ups_all_run(
    gated: tuple[Platform, GatedBackend],
) -> None:
    platform, backend = gated
    backend.release.set()
    for name in ("Ada", "Bo", "Cy", "Di"):
        add_user(platform, name)
    assert platform.run_deferred() == 4 and len(backend.calls) == 4
    assert not platform.closing


def test_no_warm_up_without_a_model_when_switched_off_or_on_failure(tmp_path: Path) -> None:
    platform = make_platform(tmp_path / "a", None)
    assert warm_reasons(platform, user_id=add_user(platform, "Ada")) == 0
    off = FakeBackend(["{"], caches_prefix=True)
    platform = make_platform(tmp_path / "b", off, prefill_reasons=False)
    assert warm_reasons(platform, user_id=add_user(platform, "Ada")) == 0 and not off.calls
    failing = FakeBackend([], caches_prefix=True)  # an empty queue raises LLMError
    platform = make_platform(tmp_path / "c", failing)
    assert warm_reasons(platform, user_id=add_user(platform, "Ada")) == 0
    assert failing.calls  # it was tried
    no_cache = FakeBackend(["{"], caches_prefix=False)  # nothing in this process to warm
    platform = make_platform(tmp_path / "d", no_cache)
    assert warm_reasons(platform, user_id=add_user(platform, "Ada")) == 0 and not no_cache.calls
    assert warm_reasons(platform, user_id=999) == 0  # unknown user: logged, not raised


class StatementReader:
    """A real feature-aware recommender in miniature: it orders by whether the statement names
    the movie's number (so the test can tell its order from the genre lift)."""

    name = "ltr"
    config = None  # the Recommender protocol: its typed settings (none here)

    def __init__(self) -> None:
        self.statements: list[str] = []

    def fit(self, interactions: Any, options: Any) -> None: ...

    def fit_features(self, user_features: Any, item_features: Any) -> None: ...

    def recommend(self, history: Any, n: int, exclude: Any = ()) -> list[ScoredItem]:
        return self.recommend_for(history, n, exclude)

    def recommend_for(
        self, history: Any, n: int, exclude: Any = (), features: Any = None
    ) -> list[ScoredItem]:
        statement = (features or {}).get("statement", "")
        self.statements.append(statement)
        ids = [m.movie_id for m in MOVIES if m.movie_id not in set(exclude)]
        ids.sort(key=lambda i: (str(i) not in statement, i))
        return [ScoredItem(i, 1.0 / (k + 1)) for k, i in enumerate(ids[:n])]

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> StatementReader:
        return cls()


def test_a_feature_aware_recommender_reads_the_taste_text(tmp_path: Path) -> None:
    platform = make_platform(tmp_path, None)
    model = StatementReader()
    info = ArtifactInfo("ltr", {}, "x", "0", "now")
    platform.set_recommender(model, info)
    with platform.session() as session:
        pool = candidate_pool(
            platform,
            session,
            history=[Rated(1)],
            taste=parse_taste("dramas like number 3"),
            exclude=(),
            n=5,
            taste_text="dramas like number 3",
        )
    assert model.statements == ["dramas like number 3"]
    assert [c.movie.movie_id for c in pool] == [3, 2]  # its order stands, the tick left out
    platform.engine.dispose()
