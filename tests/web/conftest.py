"""A small synthetic platform for web tests: SQLite, 40 movies, a trained ALS, a fake model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from cinerec.config import Settings
from cinerec.data.types import Interactions, Movie
from cinerec.db import repository as repo
from cinerec.recommenders.artifacts import train_artifact
from cinerec.recommenders.base import TrainingOptions
from cinerec.services.platform import Platform
from cinerec.web.app import create_app
from cinerec.web.security import CSRF_HEADER
from tests.llm.fakes import FakeBackend

WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()
GENRES = [("Sci-Fi",), ("Horror",), ("Comedy", "Romance"), ("Drama",)]


def synthetic_movies(n: int = 40) -> list[Movie]:
    return [
        Movie(
            movie_id=i,
            title=f"Film Number {i}",
            year=1980 + i,
            genres=GENRES[i % 4],
            overview=f"Overview of film {i}.",
            director=f"Director {i % 5}",
            cast=(f"Actor {i}", f"Actor {i + 1}"),
        )
        for i in range(1, n + 1)
    ]


def synthetic_interactions(n_movies: int = 40, n_users: int = 60, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_users + 1):
        community = u % 4  # users mostly watch one genre group
        pool = [i for i in range(1, n_movies + 1) if i % 4 == community]
        for i in rng.choice(pool, size=6, replace=False):
            rows.append((u, int(i), float(rng.integers(3, 6)), int(rng.integers(1e9, 2e9))))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    return Interactions(frame)


class SchemaAwareFake(FakeBackend):
    """Queued replies first; otherwise a valid answer built from the request's JSON schema.

    The re-rank answer reverses the candidate ids the schema allows, so a test can tell the
    model's order from the retriever's.
    """

    persona_text = "A patient viewer of quiet science fiction."
    reason = "Matches your taste for calm science fiction."

    def complete(self, messages, *, schema=None, max_tokens=256, temperature=0.0, timeout_s=None):  # type: ignore[no-untyped-def]
        if not self.replies and schema is not None:
            props = schema.get("properties", {})
            if "reason" in props:
                k = sum(1 for c in self.calls if c.schema and "reason" in c.schema["properties"])
                self.replies.append(
                    json.dumps({"reason": f"{self.reason[:-1]}, pick {WORDS[k % len(WORDS)]}."})
                )
            elif "items" in props:
                ids = props["items"]["items"]["properties"]["id"]["enum"]
                items = [
                    {"id": i, "fit": 90 - k, "reason": f"{self.reason[:-1]}, pick {WORDS[k]}."}
                    for k, i in enumerate(reversed(ids))
                ]
                self.replies.append(json.dumps({"items": items}))
            else:
                self.replies.append(json.dumps({"persona": self.persona_text}))
        return super().complete(
            messages,
            schema=schema,
            max_tokens=max_tokens,
            temperature=temperature,
            timeout_s=timeout_s,
        )


@pytest.fixture
def fake_llm() -> SchemaAwareFake:
    return SchemaAwareFake()


def make_platform(home: Path, llm: FakeBackend) -> Platform:
    """The synthetic platform: SQLite under ``home``, 40 movies, a trained ALS, ``llm``."""
    settings = Settings(
        home=home,
        cache_dir=home / "cache",
        llm_backend="none",
        page_size=5,
        n_candidates=10,
        warm_embeddings=False,
        review_summaries=False,
        prefill_reasons=False,  # tests that want the warm-up switch it on
    )
    model, info = train_artifact(
        "als",
        synthetic_interactions(),
        settings.artifacts_dir / "als",
        config={"factors": 8, "iterations": 5},
        options=TrainingOptions(seed=1, threads=1),
    )
    p = Platform(settings, llm=llm, recommender=(model, info))
    p.migrate()
    interactions = synthetic_interactions()
    counts = interactions.frame["item_id"].value_counts().to_dict()
    with p.session() as s:
        repo.upsert_movies(
            s, movies=synthetic_movies(), popularity={int(k): int(v) for k, v in counts.items()}
        )
    return p


@pytest.fixture
def platform(tmp_path: Path, fake_llm: FakeBackend) -> Iterator[Platform]:
    p = make_platform(tmp_path, fake_llm)
    yield p
    p.engine.dispose()


def with_csrf(client: TestClient) -> TestClient:
    """Give a test client the CSRF token, as a page would: the cookie from a first GET, and
    the same value in the ``X-CSRF-Token`` header of every request."""
    token = client.get("/api/csrf").json()["csrf_token"]
    client.headers[CSRF_HEADER] = token
    return client


@contextmanager
def open_client(platform: Platform, *, profile: bool = False) -> Iterator[TestClient]:
    """A test client of a new app on ``platform``, with the CSRF token and, if asked, a
    profile (so it has a session)."""
    with TestClient(create_app(platform.settings, platform=platform)) as c:
        with_csrf(c)
        if profile:
            r = c.put("/api/profile", json={"name": "Mina", "language": "en"})
            assert r.status_code == 200, r.text
        yield c


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform.settings, platform=platform)) as c:
        yield with_csrf(c)


def make_profile(client: TestClient, **overrides: str) -> None:
    if CSRF_HEADER not in client.headers:
        with_csrf(client)
    data = {"name": "Mina", "age": "29", "gender": "female", "taste": "", "language": "en"}
    data.update(overrides)
    r = client.post("/profile", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
