"""Responses that stop the model when the client goes away.

A streamed answer (server-sent events) is made by a blocking iterator that calls the model.
:func:`until_disconnect` runs it in the thread pool for a ``StreamingResponse`` and watches the
connection: once the client disconnects (checked every :data:`DISCONNECT_POLL_S`, and whenever
the server stops sending) it cancels the request's cancel token (the model layer's
``CancelToken``, re-exported by :mod:`cinerec.services.chat`), so the running model call stops
within about a token and its slot goes to the next waiter; the iterator then finishes on its
own (storing its flagged answer) and is closed. :func:`run_until_disconnect` does the same for
a whole answer computed at once (a plain JSON response): the blocking work runs in the thread
pool while the connection is watched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import anyio
from starlette.requests import Request

from cinerec.services.chat import CancelToken

DISCONNECT_POLL_S = 0.25
"""How often a streaming response asks whether its client is still there."""

GONE = "the client disconnected"
"""The cancel reason of a request whose client went away."""

MODEL_WORK_THREADS = 64
"""Threads of a web process's pool for work that waits on the model (streamed answers, chat
turns, pages with their reasons inline, posts, deferred warm-ups): mostly waiting, so many;
kept apart from the request pool (``Settings.web_threads``) so waiting on the model never
holds up a cheap request."""

T = TypeVar("T")
_DONE = object()


def model_work_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's pool for work that waits on the model (``app.state.model_threads``, set by
    :func:`cinerec.web.app.create_app`)."""
    limiter: anyio.CapacityLimiter = request.app.state.model_threads
    return limiter


async def _watch(request: Request, cancel: CancelToken) -> None:
    """Cancel ``cancel`` once the client disconnects (polled every :data:`DISCONNECT_POLL_S`);
    returns when it is cancelled, for whatever reason."""
    with contextlib.suppress(Exception):  # a server that cannot tell: the caller's finally
        while not cancel.cancelled:
            if await request.is_disconnected():
                cancel.cancel(GONE)
                return
            await asyncio.sleep(DISCONNECT_POLL_S)


async def on_model_pool(request: Request, work: Callable[[], T]) -> T:
    """``work()`` on the pool for work that waits on the model, not on a request thread: a
    request whose answer waits for the model's whole output (a page with its reasons inline, a
    post, the chat form) leaves the request threads to the cheap requests meanwhile."""
    return await anyio.to_thread.run_sync(work, limiter=model_work_limiter(request))


async def run_until_disconnect(request: Request, cancel: CancelToken, work: Callable[[], T]) -> T:
    """``work()`` in the thread pool; ``cancel`` is cancelled if the client disconnects while it
    runs (``work`` passes the token to its model calls, stops early and returns or raises as it
    would on its own)."""
    watcher = asyncio.ensure_future(_watch(request, cancel))
    try:
        return await on_model_pool(request, work)
    finally:
        watcher.cancel()


async def until_disconnect(
    request: Request, cancel: CancelToken, chunks: Iterator[str]
) -> AsyncIterator[str]:
    """``chunks`` as an async body that cancels ``cancel`` when the client disconnects.

    The token is also cancelled when the body is not read to its end (the server stopped
    sending: the client is gone). ``chunks`` is closed in a worker thread at the end.
    """
    watcher = asyncio.ensure_future(_watch(request, cancel))
    limiter = model_work_limiter(request)
    finished = False
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, chunks, _DONE, limiter=limiter)
            if chunk is _DONE:
                break
            yield str(chunk)
        finished = True
    finally:
        watcher.cancel()
        if not finished:
            cancel.cancel(GONE)
        close = getattr(chunks, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True), contextlib.suppress(ValueError):
                await anyio.to_thread.run_sync(close, limiter=limiter)  # ValueError: still running
