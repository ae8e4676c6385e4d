"""One curated post on the real catalog with the real embedded model (Qwen 0.5B by default).

One theme, three movies, one thread. The candidates come from a hashing embedder over the real
descriptions (the real embedder would first embed the whole catalog, minutes on CI; it is
measured in ``benchmarks/posts.py``). Checks validity, not taste: schema, catalog titles only,
distinct one-liners, nothing outside the catalog named.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from cinerec.config import Settings
from cinerec.db import repository as repo
from cinerec.db.tables import MovieRow
from cinerec.llm.backends.registry import build_backend
from cinerec.llm.grounding import find_unknown_titles
from cinerec.llm.posts.checks import synopsis_review
from cinerec.llm.posts.compose import Post
from cinerec.services.platform import Platform
from cinerec.services.posts import make_post
from cinerec.text.similarity import text_similarity
from tests.embeddings.fakes import HashingEmbedder
from tests.llm.conftest import require_llama_cpp

pytestmark = pytest.mark.slow

MODEL = os.environ.get("CINEREC_TEST_POSTS_MODEL", "qwen2.5-coder-0.5b")


def test_real_model_writes_a_valid_grounded_post(
    prepared_home: Path, real_data_dir: Path, tmp_path: Path
) -> None:
    require_llama_cpp()
    # The model comes from the user cache (joined once); the hashing vectors stay in tmp_path.
    backend = build_backend(Settings(llm_model=MODEL, llm_threads=1))
    settings = Settings(
        home=prepared_home,
        data_dir=real_data_dir,
        cache_dir=tmp_path / "cache",
        llm_timeout_s=300,
    )
    platform = Platform(settings, llm=backend)

    start = time.perf_counter()
    outcome = make_post(platform, "rainy day", n=3, language="en", embedder=HashingEmbedder())
    elapsed = time.perf_counter() - start

    assert outcome.ok, outcome.failure
    post = outcome.post
    assert post is not None
    Post.model_validate(post.model_dump())
    assert len(post.caption.split("\n")) == 3 and len(post.movies) == 3
    ids = [m.id for m in post.movies]
    assert len(set(ids)) == 3 and set(ids) <= set(outcome.candidate_ids)
    with platform.session() as session:
        catalog = repo.get_movies(session, ids=ids)
        all_titles = list(session.scalars(select(MovieRow.title)))
    assert [m.title for m in post.movies] == [catalog[i].title for i in ids]
    texts = [m.one_line_review for m in post.movies]
    titles = [m.title for m in post.movies]
    assert all(
        text_similarity(a, b, strip=titles) < 0.5
        for k, a in enumerate(texts)
        for b in texts[k + 1 :]
    ), texts
    people = [p for m in catalog.values() for p in (m.director or "", *m.cast, *m.genres)]
    # A one-liner the model could not write well is the movie's own synopsis, flagged and
    # counted (its overview may quote a phrase, "a 'mission from God'"); the model's are checked.
    synopses = [m.one_line_review == synopsis_review(catalog[m.id], "en") for m in post.movies]
    assert sum(synopses) == outcome.stats()["synopsis_reviews"]
    written = [t for t, synopsis in zip(texts, synopses, strict=True) if not synopsis]
    for text in [*post.caption.split("\n"), *written]:
        assert find_unknown_titles(text, all_titles, allowed=[*people, "rainy day"]) == [], text
    print(f"\n[{MODEL}, 1 thread] post in {elapsed:.1f}s, stats {outcome.stats()}")
    print(post.model_dump_json(indent=1))
