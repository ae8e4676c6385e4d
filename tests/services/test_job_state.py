"""The API's view of the jobs table: newest first, bounded pages, the error's type only."""

from __future__ import annotations

from pathlib import Path

import pytest

from cinerec.config import Settings
from cinerec.db import jobs as store
from cinerec.errors import NotFoundError
from cinerec.services import job_state
from cinerec.services.platform import Platform


@pytest.fixture
def platform(tmp_path: Path):  # noqa: ANN201
    p = Platform(Settings(home=tmp_path, llm_backend="none"))
    p.migrate()
    yield p
    p.engine.dispose()


def test_a_page_is_bounded_and_pages_follow_each_other(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_state, "MAX_PAGE", 4)
    with platform.session() as s:
        ids = [store.create_job(s, name="train", args={}).id for _ in range(6)]
    page = job_state.recent_jobs(platform, limit=1000)
    assert [j.id for j in page] == ids[:1:-1]  # 4 newest, however many were asked for
    assert [j.id for j in job_state.recent_jobs(platform, before=page[-1].id)] == ids[1::-1]
    assert [j.id for j in job_state.recent_jobs(platform, limit=0)] == [ids[-1]]


def test_one_job_shows_only_the_type_of_its_error(platform: Platform) -> None:
    with platform.session() as s:
        job = store.create_job(s, name="train", args={})
        store.start_job(s, job_id=job.id, worker="h:1")
        store.finish_job(s, job_id=job.id, error="OSError: [Errno 28] /home/x is full")
    shown = job_state.job_status(platform, job.id)
    assert (shown.state, shown.attempts, shown.error_type) == ("failed", 1, "OSError")
    with pytest.raises(NotFoundError, match="no job 999"):
        job_state.job_status(platform, 999)


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (None, None),
        ("", None),
        ("RuntimeError: out of memory", "RuntimeError"),
        ("dramatiq.errors.TimeLimitExceeded: 6 h", "dramatiq.errors.TimeLimitExceeded"),
        ("a sentence, not a type: with a colon", "Error"),
    ],
)
def test_the_error_type(error: str | None, shown: str | None) -> None:
    assert job_state._error_type(error) == shown
