"""A Ray cluster for one batch job, and a bounded map of a function over shards.

Example:
    >>> def double(xs: list[int]) -> list[int]:
    ...     return [2 * x for x in xs]
    >>> map_shards(double, [[1, 2], [3]], ClusterConfig(workers=1))  # doctest: +SKIP
    [[2, 4], [6]]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cinerec.errors import ConfigError

log = logging.getLogger(__name__)

S = TypeVar("S")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Where a batch job runs.

    Attributes:
        workers: Ray tasks running at once (on a local cluster, also its CPUs).
        address: A running cluster (``ray://head:10001``, ``auto``); None starts a local one.
        max_retries: Times Ray re-runs a task whose worker process died.
    """

    workers: int = 2
    address: str | None = None
    max_retries: int = 2

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")

    def describe(self) -> str:
        """One line for reports: where the job ran and how wide."""
        where = f"Ray cluster at {self.address}" if self.address else "local Ray cluster"
        return f"{where}, {self.workers} worker{'s' if self.workers != 1 else ''}"


def _local_runtime_env() -> dict[str, Any]:
    """Local workers import cinerec from the same source tree as the driver (a checkout run
    with ``PYTHONPATH=src`` included), one numeric thread per task."""
    import cinerec

    source = str(Path(cinerec.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    threads = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return {"env_vars": {"PYTHONPATH": path, **threads}}


@contextmanager
def ray_cluster(config: ClusterConfig) -> Iterator[Any]:
    """The ``ray`` module, connected for the duration (a Ray session already open is reused
    and left open).

    Raises:
        ConfigError: Ray is not installed (the ``batch`` extra), or the cluster is unreachable.
    """
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "Batch jobs need Ray: pip install 'cinerec[batch]' (or run the in-process command)"
        ) from exc
    own = not ray.is_initialized()
    if own:
        try:
            if config.address:
                ray.init(address=config.address, logging_level=logging.WARNING)
            else:
                ray.init(
                    num_cpus=config.workers,
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    runtime_env=_local_runtime_env(),
                )
        except ConnectionError as exc:
            raise ConfigError(f"Cannot reach the Ray cluster at {config.address}: {exc}") from exc
    try:
        yield ray
    finally:
        if own:
            ray.shutdown()


def map_shards(
    fn: Callable[..., R],
    shards: Sequence[S],
    config: ClusterConfig,
    *,
    shared: Mapping[str, Any] | None = None,
    on_result: Callable[[int, R], None] | None = None,
) -> list[R]:
    """``[fn(shard, **shared) for shard in shards]``, each call a Ray task, at most
    ``config.workers`` running at once; results in shard order.

    ``fn`` must be a module-level function (the workers import it); ``shared`` values are put
    in the object store once and handed to every task. ``on_result(index, result)`` is called
    in the driver as each shard finishes (progress).
    """
    if not shards:
        return []
    with ray_cluster(config) as ray:
        task = ray.remote(num_cpus=1, max_retries=config.max_retries)(fn)
        refs = {name: ray.put(value) for name, value in (shared or {}).items()}
        results: list[Any] = [None] * len(shards)
        running: dict[Any, int] = {}
        following = 0
        while following < len(shards) or running:
            while following < len(shards) and len(running) < config.workers:
                running[task.remote(shards[following], **refs)] = following
                following += 1
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                index = running.pop(ref)
                results[index] = ray.get(ref)
                if on_result is not None:
                    on_result(index, results[index])
        return results


def split(items: Sequence[S], size: int) -> list[list[S]]:
    """``items`` in consecutive shards of at most ``size``.

    Example:
        >>> split([1, 2, 3, 4, 5], 2)
        [[1, 2], [3, 4], [5]]
    """
    if size < 1:
        raise ConfigError(f"shard size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
