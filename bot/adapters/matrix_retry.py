"""Waiting out a homeserver that is down or rate-limiting us, for the adapter's own requests
(sync, joins, keys, direct rooms). Messages are not retried here: a send makes one attempt and
the sender's retry policy (:mod:`bot.delivery`) decides what follows."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from nio import ErrorResponse

log = logging.getLogger(__name__)
R = TypeVar("R")

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    TimeoutError,
    ConnectionError,
)
"""What a request raises while the homeserver is unreachable (nio retries none of them:
the client is configured with ``max_timeouts=0``; we decide how long to wait)."""


class Backoff:
    """Exponential delays with jitter, capped; ``reset()`` after a success."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def delay(self) -> float:
        current = self._next
        self._next = min(self._next * 2, self.cap)
        return current * random.uniform(0.8, 1.2)

    async def wait(self) -> None:
        await asyncio.sleep(self.delay())

    def reset(self) -> None:
        self._next = self.first


def rate_limited(response: object) -> float | None:
    """Seconds to wait if ``response`` is ``M_LIMIT_EXCEEDED`` (its ``retry_after_ms``), else None."""
    if isinstance(response, ErrorResponse) and (
        response.status_code == "M_LIMIT_EXCEEDED" or _http_status(response) == 429
    ):
        return max((response.retry_after_ms or 1000) / 1000, 0.05)
    return None


def server_error(response: object) -> bool:
    """A 5xx answer (a proxy in front of a restarting homeserver): worth retrying."""
    status = _http_status(response)
    return status is not None and status >= 500


def _http_status(response: object) -> int | None:
    transport = getattr(response, "transport_response", None)
    return getattr(transport, "status", None)


async def persist(request: Callable[[], Awaitable[R]], *, patience: float) -> R:
    """Run ``request`` until it gets through, for up to ``patience`` seconds.

    ``M_LIMIT_EXCEEDED`` is retried after its ``retry_after_ms``; network failures and
    5xx answers after an exponential backoff. When patience runs out the last error
    answer is returned (or the network error raised): the caller decides what it means.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    backoff = Backoff()
    while True:
        try:
            response = await request()
        except NETWORK_ERRORS:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(min(backoff.delay(), deadline - loop.time()))
            continue
        wait = rate_limited(response)
        if wait is None and not server_error(response):
            return response
        wait = backoff.delay() if wait is None else wait
        if loop.time() + wait > deadline:
            return response
        log.info("homeserver asks to wait %.2fs (%s); retrying", wait, getattr(response, "status_code", ""))
        await asyncio.sleep(wait)
