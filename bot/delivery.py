"""The sender: due notices expanded into deliveries, and each delivery sent at most once.

The database (:mod:`storage.deliveries`) is the only truth; this module holds no plan of its
own, so a restart loses nothing. One *pass* (:meth:`Sender.run_due`) gives up what is too
late, expands the notices that fell due, and sends the due deliveries with bounded
concurrency per platform, until nothing is due; it returns when the next thing will be.

Exactly once, and the one window where it cannot be
---------------------------------------------------
- A notice is expanded in one transaction (its status and all its deliveries commit
  together), and each delivery is unique per (notice, recipient): a message is *planned* once.
- A delivery is claimed (``pending|retry -> sending``, committed) right before it is handed to
  the adapter, and the platform's answer is committed right after the adapter returns,
  with nothing else awaited in between (:class:`GroupWriter`). A crash before the claim
  commits leaves it waiting: it is sent after the restart. Once the answer is committed it is
  never sent again.
- A crash between the two commits leaves the delivery ``sending``: the platform may or may
  not have accepted it, and neither Telegram nor Matrix can be asked. **Policy: such
  deliveries are sent again at the next start** (and listed in the log). Of that window, the
  part before the platform accepts the message (the rate limiter's wait, the request) is far
  longer than the part after it (the response and one group commit, a few milliseconds):
  sending again can only duplicate in the short part, while dropping would lose in the long
  one. Concurrency bounds how many deliveries can be in that state at once.

Retries: one policy, here
-------------------------
Adapters make one attempt and map the platform's answer to a :class:`Status`; whether and when
to try again is decided only here, by :class:`RetryPolicy`: after the platform's
``retry_after`` when it gives one (which also pauses the whole platform for the outbox: flood
limits are per bot), else after an exponential back-off. Outbox deliveries are retried through
the database (:data:`OUTBOX_RETRY`) until the notice's grace window (``REMINDER_GRACE`` after it
fell due, or a reminder's meeting start) is over; then they are *missed*, and the notice's owner
(the meeting's creator, the broadcaster, whoever caused a message to a person; admins for pledge
reminders) is told once. Replies to the person who just wrote are retried in memory
(:meth:`Sender.send_now`, :data:`REPLY_RETRY`): they concern nobody else, and that person can
ask again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.base import Delivery, Status
from handlers import direct, notices, recipients
from handlers.dates import duration
from handlers.i18n import use_locale
from handlers.message import Address, Reply
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryRecord, Notice
from storage.meetings import Meeting, get_meetings

if TYPE_CHECKING:
    from bot.router import Router
    from handlers.clock import Clock
    from handlers.services import CoreConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
Write: TypeAlias = Callable[[AsyncSession], Awaitable[T]]

CONCURRENCY: Mapping[str, int] = {"telegram": 12, "matrix": 2}
"""Deliveries handed to an adapter at once. Telegram's adapter paces them to its flood limits
(30/s, 20/min per group) and needs a few in flight to reach 30/s over real latency; a Matrix
homeserver limits a bot to a few messages a second."""
OTHER_CONCURRENCY = 4
BATCH = 200
NOTICE_BATCH = 50
ADAPTER_POLL = timedelta(seconds=1)
"""How often to look again while an adapter is still connecting."""
COMMIT_ATTEMPTS = 3


def grace_window(text: str) -> timedelta:
    """``REMINDER_GRACE`` (``6h``, ``90m``, ``1d``) as a duration."""
    found = duration(text)
    if found is None or found <= timedelta(0):
        raise ValueError(f"REMINDER_GRACE must be a duration such as 6h or 90m, not {text!r}")
    return found


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a send again after ``Status.RETRY``: after the platform's ``retry_after`` when
    it gives one, else ``first`` doubled at each attempt up to ``cap`` (with ``jitter``, so many
    senders do not come back at once); in memory, not after ``patience``."""

    first: timedelta
    cap: timedelta
    patience: timedelta = timedelta(0)
    jitter: float = 0.0

    def wait(self, attempt: int, retry_after: float = 0.0) -> timedelta:
        """How long to wait after the ``attempt``-th attempt (1, 2, ...) failed."""
        if retry_after > 0:
            return timedelta(seconds=retry_after)
        backoff = min(self.first * 2 ** max(attempt - 1, 0), self.cap)
        return backoff * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else backoff


OUTBOX_RETRY = RetryPolicy(first=timedelta(seconds=5), cap=timedelta(minutes=15))
"""Outbox deliveries: until the notice's grace window is over (``expire``), not ``patience``."""
REPLY_RETRY = RetryPolicy(
    first=timedelta(seconds=0.5), cap=timedelta(seconds=30), patience=timedelta(minutes=5), jitter=0.2
)
"""A reply to the asker: a homeserver restarting or a flood wait is waited out, a few minutes at most."""


class GroupWriter:
    """The sender's writes (claims, outcomes), committed together: whoever takes the lock commits
    every write waiting at that moment in one transaction (*group commit*).

    A burst of answers from the platform then costs one commit instead of a queue of them,
    which keeps the window between a message being accepted and its row being committed as
    sent short; and on SQLite, writers queued here never wait in its busy handler, which
    sleeps in steps of up to 100 ms."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = asyncio.Lock()
        self._waiting: list[tuple[Write[Any], asyncio.Future[Any]]] = []

    async def run(self, write: Write[T]) -> T:
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((write, done))
        async with self._lock:
            if not done.done():
                batch, self._waiting = self._waiting, []
                try:
                    async with self.db.transaction() as session:
                        results = [await each(session) for each, _future in batch]
                except Exception as error:
                    for _write, future in batch:
                        future.set_exception(error)
                else:
                    for (_write, future), result in zip(batch, results, strict=True):
                        future.set_result(result)
        return done.result()


class Sender:
    """The outbox's sender and the one retry policy. :meth:`run_due` is a pass over the outbox
    (the :class:`~bot.scheduler.Scheduler` starts and stops the passes); :meth:`send_now` sends a
    reply to the asker, waiting out transient failures."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: CoreConfig,
        router: Router,
        *,
        grace: timedelta,
        concurrency: Mapping[str, int] | None = None,
        retry: RetryPolicy = OUTBOX_RETRY,
        reply_retry: RetryPolicy = REPLY_RETRY,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.router = router
        self.grace = grace
        self.retry = retry
        self.reply_retry = reply_retry
        self.concurrency = {**CONCURRENCY, **(concurrency or {})}
        self.stats: Counter[str] = Counter()
        self.stopping = False
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._paused: dict[str, datetime] = {}
        self._pass = asyncio.Lock()
        self._writer = GroupWriter(db)
        self._batch: dict[int, tuple[Notice, Meeting | None]] = {}
        """The notices (and meetings) of the batch being sent, read once per batch."""

    @property
    def now(self) -> datetime:
        return self.clock.now()

    # platforms ---------------------------------------------------------------------

    def ready_platforms(self) -> list[str]:
        """Platforms whose adapter can send now (adapters that connect first expose ``started``)."""
        return self.router.ready_platforms()

    def _slot(self, platform: str) -> asyncio.Semaphore:
        if platform not in self._slots:
            self._slots[platform] = asyncio.Semaphore(self.concurrency.get(platform, OTHER_CONCURRENCY))
        return self._slots[platform]

    def _paused_until(self, platform: str, now: datetime) -> datetime | None:
        until = self._paused.get(platform)
        return until if until is not None and until > now else None

    # a pass ------------------------------------------------------------------------

    async def recover(self) -> int:
        """At start: deliveries left in flight by a crash are sent again (the policy above), and
        what must always be planned is planned. Returns how many were in flight."""
        now = self.now
        async with self.db.transaction() as session:
            in_flight = await deliveries.requeue_in_flight(session, now)
            await notices.prepare(session, now, self.config)
        if in_flight:
            log.warning(
                "%d deliveries were in flight when the bot stopped; sending them again: %s",
                len(in_flight), ", ".join(f"#{row.id} {row.recipient}" for row in in_flight[:20]),
            )
        self.stats["requeued"] += len(in_flight)
        return len(in_flight)

    async def run_due(self) -> datetime | None:
        """Do everything due now; return when something will next be due (None: nothing planned)."""
        async with self._pass:
            while not self.stopping:
                now = self.now
                await self._give_up_late(now)
                await self._report_finished(now)
                await self._expand_due(now)
                batch = await self._due_deliveries(now)
                if not batch:
                    break
                await self._send_batch(batch)
            return await self._next_due()

    async def idle(self) -> None:
        """Wait until the pass in progress, if any, has ended."""
        async with self._pass:
            return

    async def _give_up_late(self, now: datetime) -> None:
        async with self.db.transaction() as session:
            missed = await deliveries.expire(session, now, self.grace)
            if missed:
                await notices.report_missed(session, missed, now)
        for notice, count in missed:
            log.warning("gave up on notice %s (%s): %s", notice.id, notice.key, "not expanded" if count is None else f"{count} deliveries")
            self.stats["missed"] += count or 0

    async def _report_finished(self, now: datetime) -> None:
        async with self.db.transaction() as session:
            await notices.report_finished(session, now)

    async def _expand_due(self, now: datetime) -> None:
        """Expand what fell due, many notices per transaction; a notice's status and its
        deliveries always commit together. When a chunk fails, its notices are expanded one by
        one, and one that still fails stays due (retried next pass; missed after the grace)."""
        failed: set[int] = set()
        while True:
            async with self.db.transaction() as session:
                due = [n.id for n in await deliveries.due_notices(session, now, NOTICE_BATCH + len(failed))]
            chunk = [notice_id for notice_id in due if notice_id not in failed][:NOTICE_BATCH]
            if not chunk:
                return
            try:
                await self._expand(chunk, now)
            except Exception:
                log.warning("expanding %d notices failed; one by one now", len(chunk), exc_info=True)
                for notice_id in chunk:
                    try:
                        await self._expand([notice_id], now)
                    except Exception:
                        log.exception("could not expand notice %s", notice_id)
                        failed.add(notice_id)

    async def _expand(self, notice_ids: list[int], now: datetime) -> None:
        async with self.db.transaction() as session:
            for notice in (await deliveries.get_notices(session, notice_ids)).values():
                if not await deliveries.set_status_if(session, notice.id, deliveries.PENDING, deliveries.EXPANDED):
                    continue
                found = await notices.expand(session, notice, now, self.config)
                inactive = await recipients.inactive(session, found)
                added = await deliveries.add_deliveries(
                    session, notice.id, found, notice.due_at or now, inactive=inactive
                )
                log.info("notice %s (%s): %d deliveries", notice.id, notice.key, added)

    async def _due_deliveries(self, now: datetime) -> list[DeliveryRecord]:
        platforms = [p for p in self.ready_platforms() if self._paused_until(p, now) is None]
        if not platforms:
            return []
        async with self.db.transaction() as session:
            return await deliveries.due_deliveries(session, now, platforms, BATCH)

    async def _next_due(self) -> datetime | None:
        """The earliest of: a notice falling due, a delivery on a platform that can send (not
        before its pause ends), an adapter still connecting."""
        now = self.now
        ready = self.ready_platforms()  # one snapshot: an adapter may finish connecting meanwhile
        times: list[datetime] = [now + ADAPTER_POLL] if len(ready) < len(self.router.adapters) else []
        async with self.db.transaction() as session:
            notice = await deliveries.next_notice_due(session)
            if notice is not None:
                times.append(notice)
            for platform in ready:
                due = await deliveries.next_delivery_due(session, platform)
                if due is not None:
                    times.append(max(due, self._paused_until(platform, now) or due))
        return min(times) if times else None

    # sending -----------------------------------------------------------------------

    async def _send_batch(self, batch: list[DeliveryRecord]) -> None:
        async with self.db.transaction() as session:
            found = await deliveries.get_notices(session, {row.notice_id for row in batch})
            meetings = await get_meetings(session, {n.meeting_id for n in found.values() if n.meeting_id})
        self._batch = {i: (notice, meetings.get(notice.meeting_id or 0)) for i, notice in found.items()}
        async with asyncio.TaskGroup() as group:
            for row in batch:
                group.create_task(self._send(row))

    async def _send(self, row: DeliveryRecord) -> None:
        """Claim, render, send, record: the protocol of the module docstring."""
        async with self._slot(row.platform):
            now = self.now
            if self.stopping or self._paused_until(row.platform, now):
                return
            try:
                if not await self._writer.run(lambda session: deliveries.claim(session, row.id, now)):
                    return
            except Exception:
                log.exception("could not claim delivery %s; it stays waiting", row.id)
                return
            try:
                reply = await self._reply(row, now)
            except Exception as error:
                log.exception("could not render delivery %s", row.id)
                await self._record(row.id, deliveries.FAILED, error=f"render: {error!r}"[:500])
                return
            if reply is None:
                await self._record(row.id, deliveries.CANCELLED, error="nothing to say any more")
                return
            await self._answer(row, await self.router.send_outbox(reply))

    async def send_now(self, reply: Reply) -> Delivery:
        """Send a reply to the asker now, retried by :attr:`reply_retry` (not through the outbox),
        every attempt under one ``key``."""
        reply = reply if reply.key else replace(reply, key=f"gcmbot-reply-{uuid.uuid4().hex}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_retry.patience.total_seconds()
        attempt = 1
        while True:
            result = await self.router.send_once(reply)
            if result.status is not Status.RETRY:
                return result
            wait = self.reply_retry.wait(attempt, result.retry_after).total_seconds()
            if loop.time() + wait > deadline:
                log.warning("gave up a reply to %s after %d attempts: %s", reply.to, attempt, result.error)
                return result
            log.info("reply to %s: %s; retry %d in %.2f s", reply.to, result.error, attempt, wait)
            await asyncio.sleep(wait)
            attempt += 1

    async def _answer(self, row: DeliveryRecord, result: Delivery) -> None:
        now = self.now
        self.stats[result.status.value] += 1
        if result.status is Status.SENT:
            await self._record(row.id, deliveries.SENT, sent_at=now, message_id=result.message_id, error="")
        elif result.status is Status.RETRY:
            if result.retry_after > 0:
                pause = now + timedelta(seconds=result.retry_after)
                self._paused[row.platform] = max(pause, self._paused.get(row.platform, pause))
            wait = self.retry.wait(row.attempts + 1, result.retry_after)
            await self._record(row.id, deliveries.RETRY, next_attempt_at=now + wait, error=result.error[:500])
        elif result.status is Status.BLOCKED:
            await self._record(row.id, deliveries.BLOCKED, error=result.error[:500])
        else:
            await self._record(row.id, deliveries.FAILED, error=result.error[:500])

    async def _record(self, delivery_id: int, status: str, **values: object) -> None:
        """Commit a claimed delivery's outcome, retried on a database error (an outcome never
        committed leaves the delivery in flight: sent again at the next start)."""
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                await self._writer.run(lambda session: deliveries.finish(session, delivery_id, status, **values))
                return
            except Exception:
                if attempt == COMMIT_ATTEMPTS:
                    log.exception("could not record delivery %s as %s; it stays in flight", delivery_id, status)
                    return
                await asyncio.sleep(0.05 * attempt)

    async def _reply(self, row: DeliveryRecord, now: datetime) -> Reply | None:
        """The message for this recipient, in its chat's language and time zone."""
        notice, meeting = self._batch[row.notice_id]
        config = self.config
        if row.chat_id:
            address = Address(row.platform, chat_id=row.chat_id)
            info = await self.router.chats.chat_info(address)
            language = info.language or row.language or config.default_language
            zone = info.timezone or config.default_timezone
        else:
            address = Address(row.platform, user_id=row.user_id)
            language, zone = row.language or config.default_language, config.default_timezone
        with use_locale(language):
            html = notices.render(notice, meeting, zone, now)
        if html is None:
            return None
        buttons = direct.buttons_of(notice.payload) if notice.kind == direct.KIND else ()
        return Reply(html, to=address, buttons=buttons, key=f"gcmbot-delivery-{row.id}")
