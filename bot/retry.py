"""The one way the bot waits before trying again: exponential back-off, capped, with jitter,
and the platform's own ``retry_after`` when it gives one.

Who retries what (see :mod:`bot.delivery`): adapters make one attempt per message and map the
answer to a :class:`~bot.adapters.base.Status`; the sender's :class:`RetryPolicy` decides when
to send again (through the database for the outbox, :func:`persist` in memory for a reply).
Adapters use :func:`persist` and :class:`Backoff` only for their own connection (Telegram's
``getMe`` at start, Matrix's log-in, sync and joins).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again: after the platform's ``retry_after`` when it gives one, else ``first``
    doubled at each attempt up to ``cap`` (with ``jitter``, so many clients do not come back at
    once); in memory (:func:`persist`), not after ``patience`` (None: until it gets through)."""

    first: timedelta
    cap: timedelta
    patience: timedelta | None = None
    jitter: float = 0.0

    def wait(self, attempt: int, retry_after: float = 0.0) -> timedelta:
        """How long to wait after the ``attempt``-th attempt (1, 2, ...) failed."""
        if retry_after > 0:
            return timedelta(seconds=retry_after)
        backoff = min(self.first * 2 ** max(attempt - 1, 0), self.cap)
        return backoff * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else backoff


class Backoff:
    """A policy's successive waits, for a loop that runs for as long as the bot does (a sync):
    :meth:`delay` after each failure, :meth:`reset` after a success."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.failures = 0

    def delay(self, retry_after: float = 0.0) -> float:
        self.failures += 1
        return self.policy.wait(self.failures, retry_after).total_seconds()

    def reset(self) -> None:
        self.failures = 0


def done(_result: object) -> float | None:
    """Every answer is final: only the ``errors`` of :func:`persist` are retried."""
    return None


async def persist(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    log: logging.Logger,
    what: str,
    again: Callable[[T], float | None] = done,
    errors: tuple[type[BaseException], ...] = (),
    level: int = logging.INFO,
) -> T:
    """Call ``attempt`` until it gets through, waiting as ``policy`` says, for up to its patience.

    ``again(answer)`` tells whether an answer is worth another try: None when it is final, else
    the seconds the platform asked to wait (0: it did not say; back off). ``errors`` raised are
    retried too. A wait the platform asks for that would end after the patience gives up at
    once (the last answer is returned, the last error raised); a back-off is shortened to end
    with the patience, for one last try. Each retry is logged on ``log`` (the caller's: an
    adapter's retries count as its errors) at ``level``, naming ``what`` was tried."""
    loop = asyncio.get_running_loop()
    deadline = None if policy.patience is None else loop.time() + policy.patience.total_seconds()
    attempts = 0
    while True:
        attempts += 1
        try:
            answer = await attempt()
        except errors as error:
            retry_after, reason, failure = 0.0, str(error) or type(error).__name__, error
        else:
            found = again(answer)
            if found is None:
                return answer
            retry_after, reason, failure = found, _reason(answer), None
        wait = policy.wait(attempts, retry_after).total_seconds()
        if deadline is not None:
            left = deadline - loop.time()
            if left <= 0 or (retry_after > 0 and wait > left):
                log.warning("%s: gave up after %d attempts: %s", what, attempts, reason)
                if failure is not None:
                    raise failure
                return answer
            wait = min(wait, left)
        log.log(level, "%s: %s; retry %d in %.2f s", what, reason, attempts, wait)
        await asyncio.sleep(wait)


def _reason(answer: object) -> str:
    """What went wrong, for the log: a delivery's ``error``, a Matrix answer's code and message."""
    error = getattr(answer, "error", None)
    if isinstance(error, str) and error:
        return error
    code, message = getattr(answer, "status_code", None), getattr(answer, "message", None)
    return f"{code}: {message}" if code else repr(answer)[:200]
