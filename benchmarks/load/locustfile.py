"""Pages and API without the language model: what a viewer does between recommendations.

Each simulated user makes a profile (CSRF token first), then browses: the home page with its
dashboard, movie pages, title search (page and API), movie JSON, and marks movies watched
(a stored write). No request calls the model (the server runs with ``CINEREC_LLM_BACKEND=none``
and no request here asks for recommendations or chat). ``run_load.py`` starts locust on this
file against 127.0.0.1 only, bounded in time and requests (``CINEREC_LOAD_MAX_REQUESTS``).
"""

from __future__ import annotations

import os
import random
from urllib.parse import urlparse

from locust import FastHttpUser, between, events, task

MOVIES = (1, 2, 3, 6, 10, 32, 47, 50, 110, 150, 260, 296, 318, 356, 380, 457, 480, 527, 589,
          593, 608, 1196, 1198, 1210, 2571, 2858, 2959, 4993, 5952, 7153, 58559, 79132)  # fmt: skip
QUERIES = ("star", "matrix", "love", "dark", "toy", "godfather", "war", "heat", "alien")
MAX_REQUESTS = int(os.environ.get("CINEREC_LOAD_MAX_REQUESTS", "100000"))


def _wait_range() -> tuple[float, float]:
    low, _, high = os.environ.get("CINEREC_LOAD_WAIT", "0.05-0.15").partition("-")
    return float(low), float(high or low)


@events.init.add_listener
def _setup(environment, **_kw) -> None:  # noqa: ANN001 - locust's signature
    host = urlparse(environment.host or "").hostname
    if host != "127.0.0.1":
        raise SystemExit(f"load tests send traffic to 127.0.0.1 only, not {host!r}")

    def bounded(**_kw: object) -> None:  # stop at MAX_REQUESTS, whatever the time left
        runner = environment.runner
        if runner is not None and runner.stats.total.num_requests >= MAX_REQUESTS:
            runner.quit()

    environment.events.request.add_listener(bounded)


class Viewer(FastHttpUser):
    wait_time = between(*_wait_range())

    def on_start(self) -> None:
        token = self.client.get("/api/csrf", name="/api/csrf").json()["csrf_token"]
        self.headers = {"X-CSRF-Token": token}
        self.client.post(
            "/api/profile", json={"name": "load"}, headers=self.headers, name="/api/profile"
        )

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="/ (page)")

    @task(3)
    def movie_page(self) -> None:
        self.client.get(f"/movies/{random.choice(MOVIES)}", name="/movies/[id] (page)")

    @task(2)
    def search_page(self) -> None:
        self.client.get(f"/search?q={random.choice(QUERIES)}", name="/search (page)")

    @task(3)
    def movie_api(self) -> None:
        self.client.get(f"/api/movies/{random.choice(MOVIES)}", name="/api/movies/[id]")

    @task(2)
    def search_api(self) -> None:
        self.client.get(f"/api/movies/search?q={random.choice(QUERIES)}", name="/api/movies/search")

    @task(1)
    def mark_watched(self) -> None:
        self.client.post(
            "/api/feedback",
            json={"movie_id": random.choice(MOVIES), "kind": "watched"},
            headers=self.headers,
            name="/api/feedback (write)",
        )

    @task(1)
    def feedback_list(self) -> None:
        self.client.get("/api/feedback", name="/api/feedback")
