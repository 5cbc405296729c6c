"""Scheduler benchmark: 10,000 future reminders in the outbox.

Figures: start-up time (App start with migrations + outbox recovery + first pass, goal under
2 s) and firing lateness p50/p99 of the reminders falling due during the run (goal p99 under
1 s; lateness = the platform accepting the message minus the due time, through the whole
path: wake-up, expansion, claim, rendering, send, commit). Baseline, measured in the same run:
a bare APScheduler ``AsyncIOScheduler`` holding the same 10,000 due times as plain jobs.

    .venv/bin/python bench/scheduler.py [--reminders 10000] [--due 1000] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from apscheduler.triggers.date import DateTrigger  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.common import add_reminders  # noqa: E402
from bot.adapters.base import Delivery, Status  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from handlers.knowledge import TABLE_CODES  # noqa: E402
from handlers.message import Reply  # noqa: E402
from storage import chats, subscriptions  # noqa: E402
from storage.deliveries import DeliveryRecord, Notice  # noqa: E402

START_GOAL = 2.0
LATENESS_GOAL = 1.0
LEAD = 3.0
"""Seconds between the end of the setup and the first reminder falling due."""


class BenchPlatform:
    """A platform that accepts everything at once (the outbox is what is measured)."""

    platform = "bench"

    async def run(self, hub: object) -> None:
        await asyncio.Event().wait()

    async def send(self, reply: Reply) -> Delivery:
        return Delivery(Status.SENT, message_id="1")


def due_times(total: int, due: int, window: float, start: datetime) -> list[datetime]:
    """``due`` times spread over the window, the rest over the next 90 days."""
    soon = [start + timedelta(seconds=window * i / due) for i in range(due)]
    later = [start + timedelta(days=1 + 89 * i / (total - due)) for i in range(total - due)]
    return soon + later


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def baseline(times: list[datetime], window: float) -> tuple[float, list[float]]:
    lateness: list[float] = []

    async def job(at: datetime) -> None:
        lateness.append((datetime.now(UTC) - at).total_seconds())

    started = time.perf_counter()
    scheduler = AsyncIOScheduler(timezone=UTC)
    for at in times:
        scheduler.add_job(job, DateTrigger(at), args=(at,), misfire_grace_time=None)
    scheduler.start()
    startup = time.perf_counter() - started
    await asyncio.sleep((times[0] - datetime.now(UTC)).total_seconds() + window + 1)
    scheduler.shutdown(wait=False)
    return startup, lateness


async def fill(database_url: str, times: list[datetime]) -> None:
    """One subscribed chat per table; one meeting per reminder, an hour after it."""
    app = App(Settings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    await app.start()
    async with app.db.transaction() as session:
        for code in TABLE_CODES:
            await chats.ensure_chat(session, "bench", f"chat-{code}", private=False)
            if code not in await subscriptions.chat_tables(session, "bench", f"chat-{code}"):
                await subscriptions.subscribe(session, "bench", f"chat-{code}", code, "bench:admin")
        await add_reminders(session, times, tables=TABLE_CODES, title="Meeting", owner="bench:admin", tag="bench")
    await app.close()


async def outbox(database_url: str, due: int, window: float, first: datetime) -> tuple[float, list[float]]:
    started = time.perf_counter()
    app = App(Settings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    await app.start()
    app.add(BenchPlatform())
    await app.scheduler.start()
    while app.scheduler.next_due is None or app.scheduler.next_due < first:
        await asyncio.sleep(0.001)
    startup = time.perf_counter() - started
    await asyncio.sleep((first - datetime.now(UTC)).total_seconds() + window + 1)
    while app.sender.stats["sent"] < due and (datetime.now(UTC) - first).total_seconds() < window * 10:
        await asyncio.sleep(0.1)
    await app.scheduler.stop()
    async with app.db.transaction() as session:
        rows = await session.execute(
            select(DeliveryRecord.sent_at, Notice.due_at)
            .join(Notice, Notice.id == DeliveryRecord.notice_id)
            .where(DeliveryRecord.status == "sent", Notice.kind == "reminder")
        )
        lateness = [(sent - due_at).total_seconds() for sent, due_at in rows]
    await app.close()
    if len(lateness) != due:
        raise SystemExit(f"expected {due} reminders sent, got {len(lateness)}")
    return startup, lateness


async def main(total: int, due: int, window: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        setup = time.perf_counter()
        later = due_times(total, due, window, datetime.now(UTC))[due:]
        await fill(database_url, later)
        print(f"setup: {total - due} reminders over the next 90 days in {time.perf_counter() - setup:.1f} s")
        base_start, base_late = await baseline(due_times(total, due, window, datetime.now(UTC) + timedelta(seconds=LEAD)), window)
        soon = due_times(total, due, window, datetime.now(UTC) + timedelta(seconds=LEAD))[:due]
        await fill(database_url, soon)
        print(f"        and {due} falling due within {window:.0f} s, starting {LEAD:.0f} s from now")
        ours_start, ours_late = await outbox(database_url, due, window, soon[0])
    print(f"bare APScheduler, {total} jobs: start-up {base_start:.3f} s, lateness p50 "
          f"{percentile(base_late, 50) * 1000:.1f} ms, p99 {percentile(base_late, 99) * 1000:.1f} ms")
    print(f"gcmbot outbox,   {total} reminders: start-up {ours_start:.3f} s (goal < {START_GOAL:.0f} s), lateness p50 "
          f"{percentile(ours_late, 50) * 1000:.1f} ms, p99 {percentile(ours_late, 99) * 1000:.1f} ms "
          f"(goal < {LATENESS_GOAL * 1000:.0f} ms), max {max(ours_late) * 1000:.1f} ms")
    print(f"ratios: start-up {ours_start / base_start:.2f}x the bare scheduler's; "
          f"p99 lateness {percentile(ours_late, 99) / max(percentile(base_late, 99), 1e-6):.1f}x")
    ok = ours_start < START_GOAL and percentile(ours_late, 99) < LATENESS_GOAL
    print("goals met" if ok else "GOALS NOT MET")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--window", type=float, default=10.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.reminders, arguments.due, arguments.window))
