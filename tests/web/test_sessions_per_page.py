"""How many database transactions a recommendation page takes (issue 24: a page read the user,
history and persona twice, wrote its run and read it back, and opened page_size + 5 or more).

Counted with a SQLAlchemy ``begin`` event on the platform's engine: every transaction, of the
services and of the request's own user lookup. The bounds are the numbers measured after the
change; the numbers before it are in the comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from cinerec.services.platform import Platform
from tests.web.conftest import make_profile
from tests.web.test_pages import sse_events

PAGE = 5  # page_size of the web fixtures' platform


class TransactionCounter:
    """Counts the transactions begun on an engine while active."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def _begin(self, _connection: object) -> None:
        self.count += 1

    @contextmanager
    def counting(self) -> Iterator[TransactionCounter]:
        self.count = 0
        event.listen(self.engine, "begin", self._begin)
        try:
            yield self
        finally:
            event.remove(self.engine, "begin", self._begin)


def _viewer(client: TestClient) -> None:
    make_profile(client, taste="slow-burn sci-fi")
    for movie_id in (1, 5):
        assert client.post("/api/watched", json={"movie_id": movie_id}).status_code == 200


def test_the_counter_counts_transactions(platform: Platform) -> None:
    counter = TransactionCounter(platform.engine)
    with counter.counting():
        with platform.session():
            pass
        with platform.session() as session:
            session.connection()
    assert counter.count == 1  # a session that never touched the database begins nothing


def test_a_page_with_its_reasons_written_before_it_returns(
    client: TestClient, platform: Platform
) -> None:
    _viewer(client)
    counter = TransactionCounter(platform.engine)
    with counter.counting():
        first = client.post("/api/recommendations", json={})
    assert first.status_code == 200 and all(i["reason"] for i in first.json()["items"])
    # Before: 13 = PAGE + 8. Now: the user, one read of viewer and candidates, the run (and
    # its cards' review notes), one per reason, the run's end and the new persona.
    assert counter.count == PAGE + 5, counter.count
    with counter.counting():
        more = client.post("/api/recommendations", json={"more": True})
    assert more.status_code == 200 and more.json()["page"] == 2
    assert counter.count == PAGE + 4, counter.count  # before: PAGE + 7 (the persona is fresh)


def test_a_streamed_page(client: TestClient, platform: Platform) -> None:
    _viewer(client)
    counter = TransactionCounter(platform.engine)
    with counter.counting():
        r = client.post("/recommend", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.count('class="card"') == PAGE
    # Before: 5 (the run was read back), then 4 (the cards' choices in a transaction of their
    # own). Now: the user, one read of viewer and candidates, the run with its choices.
    assert counter.count == 3, counter.count
    url = re.search(r'data-reasons-url="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    with counter.counting():
        events = sse_events(client.get(url).text)
    assert [k for k, _ in events] == ["reason"] * PAGE + ["persona", "done"]
    # Before: PAGE + 5 (the run was read twice: for the owner check and by the producer).
    assert counter.count == PAGE + 4, counter.count


@contextmanager
def user_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements that read the users table while active."""
    found: list[str] = []

    def _statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if re.search(r"\bFROM users\b", statement):
            found.append(statement)

    event.listen(engine, "before_cursor_execute", _statement)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", _statement)


def test_the_home_page_and_watched_list_read_the_user_once(
    client: TestClient, platform: Platform
) -> None:
    """The request's session lookup reads the user; the dashboard reuses that record (it read
    the user a second time before)."""
    _viewer(client)
    for path in ("/", "/api/watched", "/api/recommendations"):
        with user_reads(platform.engine) as reads:
            answer = client.get(path)
        assert answer.status_code == 200, path
        assert len(reads) == 1, (path, reads)
    assert "Mina" in client.get("/").text
