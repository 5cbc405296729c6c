"""A real ``gcmbot run`` process, killed with SIGKILL at random points of a 500-chat broadcast and
restarted, on the fake Bot API server enforcing Telegram's flood limits: every chat gets the
broadcast exactly once.

The one exception is the documented one (``bot.delivery``): a kill that lands after the server
accepted a message and before its row was committed as sent. Such deliveries are still
``sending`` in the database after the kill *and* already recorded by the server; the policy sends
them again. The test finds them after each kill and requires that they, and only they, arrived
twice — every other chat exactly once, none lost.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import App
from storage import chats, roles, subscriptions
from tests.conftest import make_settings
from tests.fakes.telegram_api import Call, FakeBot, FakeTelegram, RateLimits, make_group, make_user

TOKEN = "5550002:AAcrash-test_token"
CHATS = 500
SECRETARY = make_user(4242, "Sec", username="sec_wt2", language_code="es")
GCMBOT = Path(sys.executable).parent / "gcmbot"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def group_id(index: int) -> int:
    return -1009000000000 - index


async def prepare(database_url: str) -> None:
    """500 groups following WT2 (half in English), and WT2's secretary."""
    app = App(make_settings(database_url), clock=None)
    await app.start()
    async with app.db.transaction() as session:
        for index in range(CHATS):
            chat = await chats.ensure_chat(session, "telegram", str(group_id(index)), private=False, title=f"G{index}")
            chat.language = "en" if index % 2 else "es"
            await subscriptions.subscribe(session, "telegram", chat.chat_id, "WT2", "telegram:4242")
        await roles.add_secretary(session, "telegram:4242", "WT2", "telegram:1")
    await app.close()


async def spawn(tmp_path: Path, database_url: str, url: str, run: int) -> asyncio.subprocess.Process:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("MATRIX_", "TELEGRAM_", "BOT_"))
    } | {
        "DATABASE_URL": database_url,
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": url,
        "BOT_LANGUAGE": "es",
        "BOT_TIMEZONE": "America/Bogota",
        "LOG_LEVEL": os.environ.get("CRASH_LOG_LEVEL", "INFO"),
    }
    log = (tmp_path / f"run{run}.log").open("wb")
    return await asyncio.create_subprocess_exec(
        str(GCMBOT), "run", cwd=tmp_path, env=env, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL
    )


def broadcast_calls(bot: FakeBot, marker: str) -> list[Call]:
    """The broadcast messages the server accepted for the groups (not the secretary's preview)."""
    return [
        c for c in bot.calls
        if c.ok and c.method == "sendmessage" and isinstance(c.chat_id, int) and c.chat_id < 0
        and marker in str(c.params.get("text", ""))
    ]


def received(bot: FakeBot, marker: str) -> Counter[int]:
    """How many times each group received the broadcast."""
    return Counter(int(c.chat_id or 0) for c in broadcast_calls(bot, marker))


def in_flight(db_file: Path) -> set[int]:
    """Chats whose broadcast delivery is still ``sending`` (read while the bot is dead)."""
    with sqlite3.connect(db_file) as connection:
        rows = connection.execute(
            "SELECT d.chat_id FROM deliveries d JOIN notices n ON n.id = d.notice_id "
            "WHERE n.kind = 'broadcast' AND d.status = 'sending'"
        ).fetchall()
    return {int(chat_id) for (chat_id,) in rows}


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll ``condition`` (cheaply: the server's own waiters would re-check it on every request,
    slowing the very responses whose timing matters here)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def requests_reach(bot: FakeBot, count: int) -> None:
    await until(lambda: len(bot.calls) >= count)


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def test_sigkill_during_a_500_chat_broadcast_loses_and_repeats_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    db_file = tmp_path / "bot.sqlite3"
    database_url = f"sqlite+aiosqlite:///{db_file}"
    await prepare(database_url)
    marker = f"crash-test-{seed}"
    async with FakeTelegram(rate_limits=RateLimits()) as server:
        bot = server.bot(TOKEN, "GcmCrashBot")
        for index in range(CHATS):
            bot.add_chat(make_group(group_id(index), f"G{index}"))
        private = {"id": SECRETARY["id"], "type": "private", "first_name": "Sec"}
        bot.add_chat(private)

        ambiguous: Counter[int] = Counter()
        kills = 0
        process = await spawn(tmp_path, database_url, server.url, 0)
        try:
            # the secretary writes the broadcast and presses "Send" under the preview
            bot.private(SECRETARY, f"/difundir WT2 Reunión extraordinaria {marker}")
            [preview] = await bot.wait_sent(SECRETARY["id"], 1, timeout=60)
            send = preview["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            bot.press(SECRETARY, preview, send)
            # kills at random points: after a random number of new messages, or soon after a start
            for run in range(1, 5):
                if run == 3:
                    await asyncio.sleep(rng.uniform(0.2, 2.0))  # maybe still starting or recovering
                else:
                    await requests_reach(bot, len(bot.calls) + rng.randint(10, 90))
                    await asyncio.sleep(rng.uniform(0, 1 / 30))
                await kill(process)
                kills += 1
                await asyncio.sleep(0.2)  # let the server finish requests the dead bot had sent
                ambiguous.update(in_flight(db_file) & set(received(bot, marker)))
                process = await spawn(tmp_path, database_url, server.url, run)
            # the last run finishes the broadcast and reports to the secretary
            await until(lambda: len(received(bot, marker)) >= CHATS, timeout=120)
            await until(lambda: any(m.get("text", "").startswith("📬") for m in bot.sent(SECRETARY["id"])))
            report = [m for m in bot.sent(SECRETARY["id"]) if m.get("text", "").startswith("📬")]
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    await kill(process)

        counts = received(bot, marker)
        assert set(counts) == {group_id(i) for i in range(CHATS)}, f"lost chats (seed {seed})"
        duplicated = {chat for chat, n in counts.items() if n > 1}
        assert duplicated == set(ambiguous), f"seed {seed}: duplicates {duplicated}, in flight at a kill {ambiguous}"
        assert all(counts[chat] <= 1 + times for chat, times in ambiguous.items())
        assert kills == 4 and len(report) == 1
        assert "500" in report[0]["text"]
        languages = {c.params["text"].split("\n")[0] for c in broadcast_calls(bot, marker)}
        assert len(languages) == 2  # each chat in its own language: Spanish and English headers
        print(f"seed {seed}: {kills} kills, {len(ambiguous)} ambiguous deliveries re-sent, {bot.rate_limited} 429s")
