"""Background jobs: ingest, training, review summaries, embedding builds and evaluation.

One small interface, :class:`~cinerec.jobs.base.JobRunner`, with two runners behind it:

* **Dramatiq** (:mod:`cinerec.jobs.broker`) when ``CINEREC_BROKER_URL`` names a broker
  (``redis://…`` or ``amqp://…``): the web process only enqueues, and ``cinerec worker``
  processes run the jobs.
* **In-process** (:mod:`cinerec.jobs.inprocess`) when no broker is configured: each job runs on
  a low-priority daemon thread of the process that enqueued it, so ``make run`` stays one
  command and a machine without Redis works. It retries a failed job with the actors' policy
  (:data:`~cinerec.jobs.base.MAX_ATTEMPTS`).

Either way a job's state (queued, running, done, failed, cancelled; attempts, error, timestamps,
a heartbeat and a cancel request) lives in the ``jobs`` table, so ``cinerec jobs`` shows it, and
``cinerec jobs cancel`` stops it, from any process (:meth:`JobRunner.cancel`).

Why Dramatiq: it is maintained, small, and does exactly what these jobs need — Redis *and*
RabbitMQ brokers behind one API, retries with backoff, per-actor time limits, a message that
a killed worker had not acknowledged goes back to the queue (RabbitMQ at once, Redis once the
worker's heartbeat is older than ``job_heartbeat_s``), and a ``StubBroker`` for unit tests.
RQ is Redis-only and forks per job (a worker would reload torch for every job); Celery is far
larger than five job kinds need; arq is asyncio-only while training code is synchronous.

Example:
    >>> from cinerec.jobs.tasks import TASKS
    >>> sorted(TASKS)
    ['embeddings', 'evaluate', 'ingest', 'review_summaries', 'train']
"""

from cinerec.jobs.base import JobRunner, JobView, describe

__all__ = ["JobRunner", "JobView", "describe"]
