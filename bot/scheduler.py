"""When to send: APScheduler wakes the sender at the next due time, nothing more.

The plan lives in the database (the outbox of :mod:`storage.deliveries`); APScheduler holds a
single date job — "wake the sender at T" — rebuilt from the database at every start and after
every pass, plus a slow re-read for rows written by other processes (``gcmbot ask``). So
10,000 planned reminders cost one job, a restart re-reads one ``MIN()``, and nothing planned
can be lost with the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery import Sender
from handlers.clock import Clock

log = logging.getLogger(__name__)

WAKE_JOB = "outbox-wake"
REREAD_JOB = "outbox-reread"
REREAD = timedelta(minutes=1)
FAILED_PASS_RETRY = timedelta(seconds=30)
STOP_TIMEOUT = 10.0
"""Seconds a stopping bot lets the deliveries in flight finish before cancelling them."""


class Scheduler:
    def __init__(self, sender: Sender, clock: Clock) -> None:
        self.sender = sender
        self.clock = clock
        self.next_due: datetime | None = None
        self._apscheduler: AsyncIOScheduler | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Recover what a crash left in flight, then do what fell due while the bot was down."""
        await self.sender.recover()
        self.sender.stopping = False
        self._apscheduler = AsyncIOScheduler(timezone=UTC)
        self._apscheduler.start()
        self._apscheduler.add_job(
            self._wake_job, IntervalTrigger(seconds=REREAD.total_seconds()), id=REREAD_JOB,
            coalesce=True, misfire_grace_time=None,
        )
        self._task = asyncio.create_task(self._loop(), name="outbox")
        self.wake()

    def wake(self) -> None:
        """Look at the outbox now (something may have been planned or confirmed)."""
        self._wake.set()

    async def _wake_job(self) -> None:
        self.wake()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                due = await self.sender.run_due()
            except Exception:
                log.exception("outbox pass failed; trying again in %s", FAILED_PASS_RETRY)
                due = self.clock.now() + FAILED_PASS_RETRY
            self._plan(due)

    def _plan(self, due: datetime | None) -> None:
        """One date job at ``due``, converted to real time (the clock may be a test's)."""
        self.next_due = due
        log.debug("outbox: next due at %s", due)
        assert self._apscheduler is not None
        if due is None:
            if self._apscheduler.get_job(WAKE_JOB):
                self._apscheduler.remove_job(WAKE_JOB)
            return
        delay = (due - self.clock.now()).total_seconds()
        if delay <= 0:
            self.wake()
            return
        run_date = datetime.now(UTC) + timedelta(seconds=delay)
        self._apscheduler.add_job(
            self._wake_job, DateTrigger(run_date), id=WAKE_JOB, replace_existing=True,
            coalesce=True, misfire_grace_time=None,
        )

    async def stop(self) -> None:
        """Stop claiming, let what is in flight finish (bounded), then stop."""
        self.sender.stopping = True
        if self._task is not None:
            self.wake()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                async with asyncio.timeout(STOP_TIMEOUT):
                    await self.sender.idle()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._apscheduler is not None and self._apscheduler.running:
            self._apscheduler.shutdown(wait=False)
        self._apscheduler = None
