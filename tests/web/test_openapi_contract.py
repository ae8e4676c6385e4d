"""The OpenAPI schema is the contract: schemathesis generates requests for every operation (the
model is faked) and checks the answers against the schema.

Checked on every case: no server error, the status is documented, the body matches the
documented schema, the content type is documented, and a 405 names ``Allow``. The deeper run
with every check kind, and its report, is ``benchmarks/api_contract.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from cinerec.db import jobs as store
from cinerec.services import similar
from cinerec.services.platform import Platform
from tests.embeddings.fakes import HashingEmbedder
from tests.llm.post_fakes import PostFake
from tests.web.conftest import SchemaAwareFake, make_platform, open_client

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    unsupported_method,
]


class ContractFake(SchemaAwareFake):
    """Page requests (persona, reasons) as the web tests' fake; post requests as PostFake."""

    def __init__(self) -> None:
        super().__init__()
        self.posts = PostFake()

    def complete(self, messages, *, schema=None, **kwargs):  # type: ignore[no-untyped-def]
        page = schema is None or {"persona", "reason", "items"} & set(schema.get("properties", {}))
        if page:
            return super().complete(messages, schema=schema, **kwargs)
        return self.posts.complete(messages, schema=schema, **kwargs)


def make_contract_platform(home: Path) -> Platform:
    """The web tests' synthetic platform with a fake model for every request, the catalog
    index posts search, and no rate limit in the way of the generated cases."""
    platform = make_platform(home, ContractFake())
    platform.settings.model_rate_per_minute = 10_000
    similar.catalog_index(platform, embedder=HashingEmbedder())
    return platform


@pytest.fixture
def session_client(tmp_path: Path) -> Iterator[TestClient]:
    """A browser-like client with a profile, a watched movie and two jobs (one done, one
    failed); the model is faked."""
    platform = make_contract_platform(tmp_path)
    with platform.session() as session:
        for error in (None, "RuntimeError: out of memory"):
            job = store.create_job(session, name="train", args={"name": "als"})
            store.start_job(session, job_id=job.id, worker="host:1")
            store.finish_job(session, job_id=job.id, result=None if error else {"version": 1},
                             error=error)  # fmt: skip
    with open_client(platform, profile=True) as client:
        client.post("/api/watched", json={"movie_id": 1})
        yield client


OPERATIONS = [
    ("GET", "/api/csrf"),
    ("PUT", "/api/profile"),
    ("POST", "/api/profile"),
    ("GET", "/api/profile"),
    ("POST", "/api/session/restore"),
    ("GET", "/api/movies/search"),
    ("GET", "/api/movies/{movie_id}"),
    ("GET", "/api/movies/{movie_id}/reviews"),
    ("GET", "/api/watched"),
    ("POST", "/api/watched"),
    ("DELETE", "/api/watched/{movie_id}"),
    ("POST", "/api/recommendations"),
    ("GET", "/api/recommendations"),
    ("GET", "/api/recommendations/{run_id}/reasons"),
    ("GET", "/api/persona"),
    ("POST", "/api/feedback"),
    ("GET", "/api/feedback"),
    ("DELETE", "/api/feedback/{movie_id}"),
    ("POST", "/api/chat"),
    ("POST", "/api/chat/stream"),
    ("GET", "/api/chat/conversations"),
    ("GET", "/api/chat/conversations/{conversation_id}"),
    ("DELETE", "/api/chat/conversations/{conversation_id}"),
    ("POST", "/api/posts"),
    ("GET", "/api/jobs"),
    ("GET", "/api/jobs/{job_id}"),
    ("POST", "/api/jobs/{job_id}/cancel"),
]


def test_the_list_covers_every_operation(session_client: TestClient) -> None:
    paths = session_client.get("/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_keeps_the_contract(
    session_client: TestClient, method: str, path: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", session_client.app)
    operation = schema[path][method]
    headers = {"X-CSRF-Token": session_client.headers["x-csrf-token"]}
    cookies = dict(session_client.cookies)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except Unsatisfiable:
        pytest.skip(f"{method} {path} has no input that could be made invalid")
