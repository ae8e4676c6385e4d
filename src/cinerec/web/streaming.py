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
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request

from cinerec.services.chat import CancelToken

DISCONNECT_POLL_S = 0.25
"""How often a streaming response asks whether its client is still there."""

GONE = "the client disconnected"
"""The cancel reason of a request whose client went away."""

T = TypeVar("T")


async def _watch(request: Request, cancel: CancelToken) -> None:
    """Cancel ``cancel`` once the client disconnects (polled every :data:`DISCONNECT_POLL_S`);
    returns when it is cancelled, for whatever reason."""
    with contextlib.suppress(Exception):  # a server that cannot tell: the caller's finally
        while not cancel.cancelled:
            if await request.is_disconnected():
                cancel.cancel(GONE)
                return
            await asyncio.sleep(DISCONNECT_POLL_S)


async def run_until_disconnect(request: Request, cancel: CancelToken, work: Callable[[], T]) -> T:
    """``work()`` in the thread pool; ``cancel`` is cancelled if the client disconnects while it
    runs (``work`` passes the token to its model calls, stops early and returns or raises as it
    would on its own)."""
    watcher = asyncio.ensure_future(_watch(request, cancel))
    try:
        return await anyio.to_thread.run_sync(work)
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
    finished = False
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
        finished = True
    finally:
        watcher.cancel()
        if not finished:
            cancel.cancel(GONE)
        close = getattr(chunks, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True), contextlib.suppress(ValueError):
                await anyio.to_thread.run_sync(close)  # ValueError: still running elsewhere
