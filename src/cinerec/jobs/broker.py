"""Jobs on a real queue: Dramatiq with a Redis or RabbitMQ broker (``CINEREC_BROKER_URL``).

The web process enqueues a message carrying only the job id (the job's name and arguments are
in the ``jobs`` table); ``cinerec worker`` (:func:`run_worker`) takes messages off the queue and
runs them with :meth:`JobRunner.run`. A job that raises is retried by Dramatiq's ``Retries``
(``max_retries``, exponential backoff). Between attempts the job shows ``queued`` with its last
error, as in-process, never ``failed`` for a moment; the jobs table decides when it has run out
of attempts (a redelivered message counts too), and then the actor raises :class:`JobFailed`,
which Dramatiq does not retry. A worker killed mid-job never acknowledged its message,
so the broker hands it to the next worker: RabbitMQ as soon as the connection drops, Redis once
the dead worker's heartbeat is older than ``job_heartbeat_s``.

Each runner has its own broker and actor (no global ``dramatiq`` broker is set), so two
runners with different queues can live in one test process.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.broker import Broker
from dramatiq.brokers.redis import MAINTENANCE_SCALE

from cinerec.db import jobs as store
from cinerec.errors import ConfigError
from cinerec.jobs.base import MAX_ATTEMPTS, MAX_BACKOFF_S, MIN_BACKOFF_S, JobRunner, Task
from cinerec.services.background import lower_thread_priority

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cinerec.services.platform import Platform

log = logging.getLogger(__name__)

ACTOR = "cinerec_job"
MAX_RETRIES = MAX_ATTEMPTS - 1
"""A job that raises runs at most :data:`~cinerec.jobs.base.MAX_ATTEMPTS` times (then it stays
failed), as in-process."""
TIME_LIMIT_MS = 6 * 3600 * 1000
"""Dramatiq's default limit is 10 minutes; SASRec on a busy 2-core machine took 35."""
MAINTENANCE_CHANCE = MAINTENANCE_SCALE // 10
"""Redis: one command in ten also requeues the messages of dead workers. Dramatiq's default
(one in a thousand) suits many busy workers; with one worker polling once a second it would
leave a killed worker's job waiting for about 15 minutes."""


def make_broker(url: str, *, queue: str, heartbeat_s: float) -> Broker:
    """A Dramatiq broker for ``redis://``, ``rediss://``, ``amqp://`` or ``amqps://``; the
    Redis keys live under the namespace ``queue``."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, namespace=queue, heartbeat_timeout=int(heartbeat_s * 1000),
                           maintenance_chance=MAINTENANCE_CHANCE)  # fmt: skip
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    if scheme == "stub":  # unit tests: in memory, run by a dramatiq Worker in the same process
        from dramatiq.brokers.stub import StubBroker

        return StubBroker()
    raise ConfigError(
        f"CINEREC_BROKER_URL must start with redis://, amqp:// (or rediss://, amqps://), "
        f"not {url.split('://', 1)[0]!r}; unset it to run jobs in-process."
    )


class JobFailed(Exception):
    """The job ran out of attempts and is stored ``failed``, or it was cancelled: Dramatiq must
    not retry it."""


class BrokerRunner(JobRunner):
    """Enqueues job ids on a Dramatiq queue; :func:`run_worker` runs them."""

    def __init__(
        self,
        platform: Platform,
        tasks: Mapping[str, Task] | None = None,
        *,
        broker: Broker | None = None,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        super().__init__(platform, tasks, max_attempts=max_retries + 1)
        settings = platform.settings
        if broker is None and not settings.broker_url:
            raise ConfigError("No job broker: set CINEREC_BROKER_URL (redis://… or amqp://…).")
        self.queue = settings.job_queue
        self.broker = broker or make_broker(
            settings.broker_url or "", queue=self.queue, heartbeat_s=settings.job_heartbeat_s
        )
        self.actor: dramatiq.Actor[[int], Any] = dramatiq.Actor(
            self._perform,
            broker=self.broker,
            actor_name=ACTOR,
            queue_name=self.queue,
            priority=0,
            options={"max_retries": max_retries, "min_backoff": int(MIN_BACKOFF_S * 1000),
                     "max_backoff": int(MAX_BACKOFF_S * 1000), "time_limit": TIME_LIMIT_MS,
                     "throws": (JobFailed,)},
        )  # fmt: skip

    def _perform(self, job_id: int) -> None:
        lower_thread_priority(10)
        try:
            self.run(job_id, retry=True)
        except Exception as exc:
            state = self.get(job_id).state
            if state == store.FAILED:  # out of attempts: stored failed, no retry
                raise JobFailed(f"job {job_id} failed after its last attempt: {exc}") from exc
            if state == store.CANCELLED:  # failed once its cancel was asked for: no retry
                raise JobFailed(f"job {job_id} was cancelled: {exc}") from exc
            raise  # stored queued with its error; Dramatiq's Retries sends it again

    def _dispatch(self, job_id: int) -> None:
        self.actor.send(job_id)

    def worker(self, *, threads: int = 1) -> dramatiq.Worker:
        """A started Dramatiq worker on this runner's queue (``stop()`` it when done)."""
        worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=1000)
        worker.start()
        return worker

    def close(self) -> None:
        self.broker.close()


def run_worker(
    platform: Platform,
    *,
    threads: int = 1,
    stop: threading.Event | None = None,
    tasks: Mapping[str, Task] | None = None,
) -> None:
    """Run jobs from the configured queue until SIGINT/SIGTERM (or ``stop``) — ``cinerec
    worker``. A job that is running when the signal comes is finished first. ``tasks``: the
    jobs it knows (default: :data:`~cinerec.jobs.tasks.TASKS`)."""
    runner = BrokerRunner(platform, tasks)
    platform.migrate()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    worker = runner.worker(threads=threads)
    log.warning("cinerec worker: %d thread(s) on queue %r", threads, runner.queue)
    try:
        while not stop.wait(1.0):
            platform.heartbeat()  # a model version a job loaded stays safe from pruning
    finally:
        worker.stop()
        runner.close()
        platform.release_versions()
