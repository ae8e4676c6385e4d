"""A real local Ray cluster of one CPU, shared by the batch tests (starting one takes seconds)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    """``ray.init(num_cpus=1)`` for the module; jobs reuse it instead of starting their own."""
    ray = pytest.importorskip("ray")
    from cinerec.batch.cluster import _local_runtime_env

    ray.init(
        num_cpus=1,
        include_dashboard=False,
        logging_level=logging.WARNING,
        runtime_env=_local_runtime_env(),
    )
    try:
        yield ray
    finally:
        ray.shutdown()
