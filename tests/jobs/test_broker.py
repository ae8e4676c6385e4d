"""Broker configuration: clear errors for what cannot work."""

from __future__ import annotations

import pytest

from cinerec.errors import ConfigError
from cinerec.jobs.broker import BrokerRunner, make_broker
from tests.jobs.conftest import MakePlatform


def test_an_unknown_broker_scheme_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="redis://, amqp://"):
        make_broker("kafka://127.0.0.1:9092", queue="q", heartbeat_s=60)


def test_a_broker_runner_needs_a_broker_url(make_platform: MakePlatform) -> None:
    with pytest.raises(ConfigError, match="CINEREC_BROKER_URL"):
        BrokerRunner(make_platform())


def test_the_platform_picks_the_runner_from_the_settings(make_platform: MakePlatform) -> None:
    assert make_platform().jobs.in_process
    runner = make_platform(broker_url="stub://", job_queue="picked").jobs
    assert not runner.in_process and isinstance(runner, BrokerRunner)
    assert runner.queue == "picked"
