"""Soak: a long-running ``gcmbot run`` stays flat in memory and in answer time.

One ``gcmbot run`` process (SQLite, Telegram on the fake Bot API server in this process with
Telegram's flood limits, health server on) serves 50 groups following the tables and 2,000
members for ``--duration`` seconds (default 10 minutes): 100 questions a minute from random
members in private chats, a meeting reminder to the groups of a table every 30 seconds, and one
broadcast (a secretary's ``/difundir`` and its Send button) half-way through. Figures: the
process's RSS growth after the warm-up (goal under 5 %), and answer latency p50/p99 of the
first minute beside the last minute's and the whole run's. Every reminder and the broadcast
must reach every group.

    .venv/bin/python bench/soak.py [--duration 600] [--warm-up 60] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from handlers.knowledge import TABLE_CODES  # noqa: E402
from storage import chats, roles, subscriptions  # noqa: E402
from storage.deliveries import Notice  # noqa: E402
from storage.meetings import Meeting  # noqa: E402
from tests.fakes.synapse import free_port  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, RateLimits, make_group, make_user  # noqa: E402

TOKEN = "7000050:soak-gcmbot"
GROUPS, MEMBERS = 50, 2000
REMINDER_EVERY = 30.0
RSS_GOAL = 0.05
SECRETARY = make_user(4242, "Sec", username="sec_soak", language_code="es")
QUESTIONS = (
    "/objetivo 10", "/mesa 2", "/objective 5", "/table WT3", "¿Qué mesa trabaja sobre la trata de personas?",
    "Which table works on human trafficking?", "/ayuda", "¿Cuándo se reúnen las mesas?", "hola",
    "¿Qué dice el objetivo 23?", "How do I register my organisation?",
)


def group_id(index: int) -> int:
    return -1005000000000 - index


def table_of(index: int) -> str:
    """The table group ``index`` follows besides WT2 (whose secretary broadcasts)."""
    return TABLE_CODES[index % len(TABLE_CODES)]


def followers(table: str) -> list[int]:
    return [i for i in range(GROUPS) if table in (table_of(i), "WT2")]


async def prepare(database_url: str, reminders: list[datetime]) -> None:
    """The groups and their tables, the secretary of WT2, and a meeting per reminder time."""
    app = App(Settings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    await app.start()
    now = datetime.now(UTC)
    async with app.db.transaction() as session:
        for index in range(GROUPS):
            chat = await chats.ensure_chat(session, "telegram", str(group_id(index)), private=False, title=f"G{index}")
            chat.language = "en" if index % 3 == 0 else "es"
            for table in {table_of(index), "WT2"}:
                await subscriptions.subscribe(session, "telegram", chat.chat_id, table, "telegram:4242")
        await roles.add_secretary(session, "telegram:4242", "WT2", "telegram:1")
        rows = [
            {
                "table_code": TABLE_CODES[i % len(TABLE_CODES)], "title": f"Soak meeting {i}",
                "starts_at": at + timedelta(hours=1), "timezone": "America/Bogota", "offsets": [3600],
                "quarterly": False, "occurrence": 0, "status": "scheduled", "revision": 0,
                "created_by": "telegram:4242", "created_at": now, "updated_at": now,
            }
            for i, at in enumerate(reminders)
        ]
        await session.execute(insert(Meeting), rows)
        ids = list(await session.scalars(select(Meeting.id).order_by(Meeting.id)))
        await session.execute(insert(Notice), [
            {
                "key": f"reminder:{mid}:soak:3600", "kind": "reminder", "status": "pending", "due_at": at,
                "expires_at": at + timedelta(hours=1), "meeting_id": mid, "table_code": row["table_code"],
                "owner": "telegram:4242", "payload": {"offset": 3600}, "reported": False, "created_at": now,
            }
            for mid, at, row in zip(ids, reminders, rows, strict=True)
        ])
    await app.close()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else (values or [0])[0]


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(json.load(answer)["ready"])
    except OSError:
        return False


async def run(duration: float, warm_up: float, rate: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gcmbot-soak-"))
    database_url = f"sqlite+aiosqlite:///{workdir / 'soak.sqlite3'}"
    start = datetime.now(UTC) + timedelta(seconds=20)
    reminders = [start + timedelta(seconds=REMINDER_EVERY * n) for n in range(int(duration / REMINDER_EVERY))]
    await prepare(database_url, reminders)
    members = [make_user(300_000 + n, f"Member {n}", language_code=("es", "en")[n % 2]) for n in range(MEMBERS)]
    rng = random.Random(16)
    async with FakeTelegram(rate_limits=RateLimits()) as server:
        bot = server.bot(TOKEN, "GcmSoakBot")
        for index in range(GROUPS):
            bot.add_chat(make_group(group_id(index), f"G{index}"))
        health = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "BOT_"))} | {
            "DATABASE_URL": database_url, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.url,
            "HEALTH_PORT": str(health), "LOG_LEVEL": "WARNING",
        }
        log = (workdir / "gcmbot.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=REPO, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
        try:
            while not await asyncio.to_thread(ready, health):
                await asyncio.sleep(0.2)
            memory = psutil.Process(process.pid)
            began = time.monotonic()
            asked: dict[int, float] = {}
            latencies: list[tuple[float, float]] = []  # (when asked, seconds)
            rss: list[tuple[float, int]] = []
            seen = 0
            next_question = began
            broadcast_at = began + duration / 2
            marker = f"soak-{os.getpid()}"
            broadcast_state = "planned"
            while (now := time.monotonic()) - began < duration:
                while now >= next_question:
                    member = rng.choice(members)
                    if member["id"] not in asked:
                        asked[member["id"]] = time.monotonic()
                        bot.private(member, rng.choice(QUESTIONS))
                    next_question += 60 / rate
                if broadcast_state == "planned" and now >= broadcast_at:
                    bot.private(SECRETARY, f"/difundir WT2 Asamblea extraordinaria {marker}")
                    broadcast_state = "asked"
                for message in bot.delivered[seen:]:
                    chat = message["chat"]["id"]
                    if chat == SECRETARY["id"] and broadcast_state == "asked" and "reply_markup" in message:
                        bot.press(SECRETARY, message, message["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
                        broadcast_state = "confirmed"
                    elif chat in asked:
                        at = asked.pop(chat)
                        latencies.append((at - began, time.monotonic() - at))
                seen = len(bot.delivered)
                if not rss or now - began - rss[-1][0] >= 5:
                    rss.append((now - began, memory.memory_info().rss))
                await asyncio.sleep(0.01)
            await asyncio.sleep(5)
        finally:
            process.terminate()
            await process.wait()

    group_messages = [m for m in bot.delivered if m["chat"]["id"] < 0]
    reminded = sum("Soak meeting" in m.get("text", "") for m in group_messages)
    broadcast = {m["chat"]["id"] for m in group_messages if marker in m.get("text", "")}
    due_reminders = sum(1 for at in reminders if at <= datetime.now(UTC) - timedelta(seconds=10))
    expected = sum(len(followers(TABLE_CODES[n % len(TABLE_CODES)])) for n in range(due_reminders))

    after = [value for at, value in rss if at >= warm_up]
    growth = (after[-1] - after[0]) / after[0] if len(after) > 1 else float("nan")
    first = [s for at, s in latencies if at < 60]
    last = [s for at, s in latencies if at >= duration - 60]
    whole = [s for _at, s in latencies]
    print(f"Soak: {duration / 60:.1f} min, {GROUPS} groups, {MEMBERS} members, {rate:.0f} questions/min, "
          f"a reminder every {REMINDER_EVERY:.0f} s, one broadcast (fake Bot API server with flood limits)")
    print(f"  answers: {len(whole)} (unanswered at the end: {len(asked)})")
    for name, values in (("first minute", first), ("last minute", last), ("whole run", whole)):
        if values:
            print(f"  answer latency {name:<13} p50 {statistics.median(values) * 1000:7.1f} ms   p99 {percentile(values, 99) * 1000:7.1f} ms")
    print(f"  reminders: {reminded} group messages for {due_reminders} reminders due (expected {expected})")
    print(f"  broadcast: reached {len(broadcast)} of {GROUPS} groups")
    print(f"  RSS after {warm_up:.0f} s warm-up: {after[0] / 2**20:.1f} MiB -> {after[-1] / 2**20:.1f} MiB at the end, "
          f"growth {growth * 100:+.2f} % ({'meets' if growth < RSS_GOAL else 'misses'} the goal of under {RSS_GOAL * 100:.0f} %)")
    print(f"  logs and database: {workdir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 10 minutes)")
    parser.add_argument("--warm-up", type=float, default=60.0, help="seconds before RSS growth is measured")
    parser.add_argument("--rate", type=float, default=100.0, help="questions a minute")
    args = parser.parse_args()
    asyncio.run(run(args.duration, args.warm_up, args.rate))


if __name__ == "__main__":
    main()
