"""Spreading kept-alive connections over the web workers.

``cinerec serve --workers N`` runs N processes that accept from one listening socket: a new
connection goes to whichever worker accepts it first, and an HTTP/1.1 client keeps its
connection for every later request. A burst of new clients can so leave one worker holding most
connections for as long as they stay open: 39 of 50 load-test users on one of two workers,
halfway through a 60 s run (``benchmarks/load/run_load.py``), that worker saturated while the
other idled. As nginx's ``keepalive_requests`` and Hypercorn's ``keep_alive_max_requests`` do,
a connection here ends after about ``keepalive_requests`` answers: the answer carries
``Connection: close``, the client opens a new connection, and the worker free to accept it gets
it, so connections drift to the worker with time to serve them.

Which answer closes its connection is drawn at random (probability ``1 / keepalive_requests``,
so a connection serves that many answers on average): an ASGI app cannot tell one connection
from another (behind a proxy ``scope["client"]`` is the forwarded address), and a draw needs no
state per connection.
"""

from __future__ import annotations

import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class KeepAliveLimitMiddleware:
    """Ends about one in ``requests`` answers with ``Connection: close`` (0: never).

    Args:
        app: The ASGI app.
        requests: Answers a connection serves on average before it closes.
        draw: The random source (a fresh ``random.Random`` by default; a test passes its own).
    """

    def __init__(self, app: ASGIApp, *, requests: int, draw: random.Random | None = None) -> None:
        self.app = app
        self.requests = requests
        self.draw = draw or random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        keep = scope["type"] != "http" or self.requests <= 0
        if keep or self.draw.random() * self.requests >= 1.0:  # keep the connection
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)
