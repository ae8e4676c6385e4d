"""The API against its OpenAPI schema, with every check kind schemathesis has.

The app is the web tests' synthetic one (SQLite, 40 movies, a trained ALS, a schema-aware fake
model), with a session (profile, one watched movie) and its CSRF token. For every operation and
both generation modes (valid input by the schema, and input the schema forbids), ``--examples``
cases are generated and each answer is checked by every check separately, so one failure does
not hide another. Failures are counted per check kind and kept unique by (operation, check,
status); the report lists them.

    python benchmarks/api_contract.py --examples 100 --out benchmarks/results/api_contract

Check kinds (schemathesis 4): server errors, documented status codes, response bodies and
headers against the schema, documented content types, 405 with ``Allow`` for unsupported
methods, negative data rejected, positive data accepted, missing required headers, and the
authorization checks (which need a security scheme; the API has none, its session is a cookie).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks

from benchmarks.provenance import markdown_header, provenance

CHECK_NAMES = (
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)


def all_checks() -> list[Callable[..., Any]]:
    """``not_a_server_error`` and every OpenAPI check this schemathesis version has."""
    found = [getattr(openapi_checks, n) for n in CHECK_NAMES if hasattr(openapi_checks, n)]
    return [not_a_server_error, *found]


@contextmanager
def synthetic_client(home: Path) -> Iterator[Any]:
    """The web tests' synthetic app with a session: imported here, built as the tests build
    it, so the contract is checked on the same app the test suite checks."""
    from tests.web.conftest import open_client
    from tests.web.test_openapi_contract import make_contract_platform

    platform = make_contract_platform(home)
    with open_client(platform, profile=True) as client:
        client.post("/api/watched", json={"movie_id": 1})
        yield client


def run(examples: int) -> dict[str, Any]:
    checks = all_checks()
    failures: dict[tuple[str, str, int], str] = {}
    cases: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp, synthetic_client(Path(tmp)) as client:
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        headers = {"X-CSRF-Token": client.headers["x-csrf-token"]}
        cookies = dict(client.cookies)
        operations = [
            (m.upper(), p)
            for p, ops in client.get("/openapi.json").json()["paths"].items()
            for m in ops
        ]
        for method, path in operations:
            operation = schema[path][method]
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=examples,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=True,
                    database=None,
                )
                def probe(
                    case: Any, _op: str = f"{method} {path}", _mode: str = mode.value
                ) -> None:
                    response = case.call(headers=headers, cookies=cookies)
                    cases[_mode] += 1
                    for check in checks:
                        try:
                            case.validate_response(response, checks=[check])
                        except Exception as exc:  # noqa: BLE001 - a failed check is the datum
                            key = (_op, check.__name__, response.status_code)
                            failures.setdefault(key, str(exc).strip().splitlines()[0][:200])

                try:
                    probe()
                except Unsatisfiable:
                    pass  # no input of this operation can be made invalid
    per_check = Counter(check for _, check, _ in failures)
    return {
        "operations": len(operations),
        "cases": dict(cases),
        "checks": [c.__name__ for c in checks],
        "unique_failures_per_check": {c.__name__: per_check.get(c.__name__, 0) for c in checks},
        "failures": [
            {"operation": op, "check": check, "status": status, "message": message}
            for (op, check, status), message in sorted(failures.items())
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        markdown_header(result["provenance"]),
        "# API contract (schemathesis, every check kind)",
        "",
        f"{result['operations']} operations; cases: {result['cases']}; {result['seconds']:.0f} s.",
        "",
        "| check | unique failures |",
        "|---|---|",
    ]
    lines += [f"| {c} | {n} |" for c, n in result["unique_failures_per_check"].items()]
    if result["failures"]:
        lines += ["", "| operation | check | status | message |", "|---|---|---|---|"]
        lines += [
            f"| {f['operation']} | {f['check']} | {f['status']} | {f['message']} |"
            for f in result["failures"]
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="cases per operation and mode")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/api_contract"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    result = run(args.examples)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["provenance"] = provenance(sys.argv if argv is None else ["api_contract.py", *argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
