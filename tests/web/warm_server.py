"""A real uvicorn server (``cinerec serve``'s single-worker setup) on the web tests' synthetic
platform with a slow fake model and warm-ups on; ``users`` profiles are made before it starts,
so the first request's answer is followed by a list of ``users`` queued reasons warm-ups.

Run as ``python -m tests.web.warm_server HOME PORT USERS DELAY_S``; each model call is logged
as a line ``model call`` on stdout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

from cinerec.services import users
from cinerec.web.app import create_app
from tests.web.conftest import SchemaAwareFake, make_platform


class SlowPrefixFake(SchemaAwareFake):
    """A model with a prefix cache whose every call takes ``delay_s``."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.caches_prefix = True
        self.delay_s = delay_s

    def complete(self, messages, **kwargs: Any):  # type: ignore[no-untyped-def]
        print("model call", flush=True)
        time.sleep(self.delay_s)
        return super().complete(messages, **kwargs)


def main(home: Path, port: int, n_users: int, delay_s: float) -> None:
    platform = make_platform(home, SlowPrefixFake(delay_s))
    platform.settings.prefill_reasons = True
    for k in range(n_users):
        profile = users.parse_profile({"name": f"Viewer {k}"}, max_taste_chars=300)
        users.save_profile(platform, token=None, profile=profile)  # queues a warm-up
    uvicorn.run(create_app(platform.settings, platform=platform), host="127.0.0.1", port=port,
                log_level="info")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
