"""Waiting out a homeserver that is down or rate-limiting us, for the adapter's own requests
(sync, joins, keys, direct rooms). Messages are not retried here: a send makes one attempt and
the sender's retry policy (:mod:`bot.delivery`) decides what follows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import aiohttp
from nio import ErrorResponse

from bot import retry
from bot.retry import RetryPolicy

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


HOMESERVER = RetryPolicy(first=timedelta(seconds=0.5), cap=timedelta(seconds=30), jitter=0.2)
"""How the adapter's own requests wait while the homeserver is unreachable or failing."""


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


def retry_after(response: object) -> float | None:
    """For :func:`bot.retry.persist`: a rate limit's wait, 0 for a 5xx (back off), else None (final)."""
    wait = rate_limited(response)
    if wait is None and server_error(response):
        return 0.0
    return wait


async def persist(request: Callable[[], Awaitable[R]], *, patience: float) -> R:
    """Run ``request`` until it gets through, for up to ``patience`` seconds.

    ``M_LIMIT_EXCEEDED`` is retried after its ``retry_after_ms``; network failures and
    5xx answers after :data:`HOMESERVER`'s back-off. When patience runs out the last error
    answer is returned (or the network error raised): the caller decides what it means.
    """
    policy = replace(HOMESERVER, patience=timedelta(seconds=patience))
    what = getattr(getattr(request, "func", request), "__name__", "request")
    return await retry.persist(request, policy, log=log, what=f"Matrix {what}", again=retry_after, errors=NETWORK_ERRORS)
