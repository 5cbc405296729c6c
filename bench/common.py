"""What several benchmarks share: the fake Bot API server in its own process, the bare
python-telegram-bot baseline and gcmbot sending through it and their figures against the bound
of Telegram's flood limits; a ``gcmbot run`` process's environment, readiness and memory; and
meetings with their reminders written straight into the outbox.

Benchmarks put the repository on ``sys.path`` before importing this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ApplicationBuilder

from bot.adapters.telegram import FLOOD_LIMITS, TelegramAdapter
from bot.app import App
from bot.config import Settings
from bot.delivery import CONCURRENCY
from storage.deliveries import Notice
from storage.meetings import Meeting

REPO = Path(__file__).resolve().parent.parent
GOAL = 1.1
"""At most this many times the bound that Telegram's flood limits set."""
RATE = 30
"""Messages a second Telegram accepts from one bot."""
BARE_RETRIES = 3
"""The bare bot retries 429s inside AIORateLimiter; ours retries them in the sender."""

Figures = dict[str, float]
"""What the fake server saw: ``elapsed``, ``429``, ``duplicates``, ``losses``."""
Baseline = Callable[[aiohttp.ClientSession, str, int], Awaitable[Figures]]
"""The bare bot's run: (session, the server's URL, how many messages)."""
Ours = Callable[[aiohttp.ClientSession, str, int, Path], Awaitable[Figures]]
"""gcmbot's run: the same and a directory for its database."""


@asynccontextmanager
async def fake_server() -> AsyncIterator[str]:
    """The fake Bot API server with Telegram's flood limits, in its own process (so it neither
    competes with the bot for the event loop nor sees its timing distorted by it); yields its URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram_api", "--rate-limits", cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    url = (await process.stdout.readline()).decode().strip()
    try:
        yield url
    finally:
        process.terminate()
        await process.wait()


async def control(http: aiohttp.ClientSession, url: str, token: str, action: str, body: Any = None) -> Any:
    """One call to the fake server's control API for the bot ``token``."""
    method = http.post if body is not None else http.get
    async with method(f"{url}/fake/bot{token}/{action}", json=body) as response:
        return await response.json()


async def register_chats(http: aiohttp.ClientSession, url: str, token: str, chats: Sequence[dict[str, Any]]) -> None:
    """Make ``chats`` known to the fake server, a hundred at a time."""
    for start in range(0, len(chats), 100):
        await asyncio.gather(*(control(http, url, token, "chats", chat) for chat in chats[start:start + 100]))


async def outcome(
    http: aiohttp.ClientSession, url: str, token: str, chat_ids: Sequence[int], started: float
) -> Figures:
    """What the server saw of the messages to ``chat_ids``: elapsed from ``started`` until the last
    was accepted, 429s, duplicates, losses."""
    expected = set(chat_ids)
    calls = await control(http, url, token, "calls")
    sent = [
        c for c in calls if c["method"] == "sendmessage" and c["status"] == 200 and c["params"]["chat_id"] in expected
    ]
    per_chat = Counter(c["params"]["chat_id"] for c in sent)
    stats = await control(http, url, token, "stats")
    return {
        "elapsed": max(c["at"] for c in sent) - started,
        "429": stats["rate_limited"],
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "losses": sum(1 for chat_id in chat_ids if per_chat[chat_id] == 0),
    }


async def bare_send(url: str, token: str, chat_ids: Sequence[int], text: str) -> float:
    """The baseline: python-telegram-bot alone sends ``text`` to every chat with our pacing and
    concurrency (no database, no outbox); returns when it started."""
    application = (
        ApplicationBuilder().token(token).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=BARE_RETRIES, **FLOOD_LIMITS)).job_queue(None).build()
    )
    await application.initialize()
    slots = asyncio.Semaphore(CONCURRENCY["telegram"])

    async def send(chat_id: int) -> None:
        async with slots:
            await application.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)

    started = time.time()
    await asyncio.gather(*(send(chat_id) for chat_id in chat_ids))
    await application.shutdown()
    return started


async def started_app(url: str, token: str, tmp: Path) -> App:
    """gcmbot started on a SQLite database in ``tmp``, for the bot ``token`` on the server at ``url``."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}",
        telegram_token=token, telegram_base_url=url,
    )
    app = App(settings)
    await app.start()
    return app


@asynccontextmanager
async def sending(app: App) -> AsyncIterator[None]:
    """``app`` with its Telegram adapter receiving and its scheduler running, the outbox idle at the
    start; all stopped and the app closed on leaving."""
    adapter = TelegramAdapter(app.settings)
    app.add(adapter)
    receiving = asyncio.create_task(adapter.run(app.hub))
    await adapter.started.wait()
    await app.scheduler.start()
    await app.sender.idle()
    try:
        yield
    finally:
        await app.scheduler.stop()
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        await app.close()


async def until_sent(app: App, count: int) -> None:
    """Wake the scheduler for work just planned; return once the sender has sent ``count`` messages."""
    app.scheduler.wake()
    while app.sender.stats["sent"] < count:
        await asyncio.sleep(0.1)


async def measured(count: int, baseline: Baseline, gcmbot: Ours) -> tuple[Figures, Figures]:
    """The baseline's figures, then gcmbot's, on one fake server (each with its own bot)."""
    async with fake_server() as url, aiohttp.ClientSession() as http:
        bare = await baseline(http, url, count)
        with tempfile.TemporaryDirectory() as tmp:
            ours = await gcmbot(http, url, count, Path(tmp))
    return bare, ours


def print_figures(count: int, noun: str, rows: Sequence[tuple[str, Figures]]) -> None:
    bound = count / RATE
    for name, figures in rows:
        print(
            f"{name:>24}: {count} {noun} in {figures['elapsed']:.1f} s = {figures['elapsed'] / bound:.3f}x the "
            f"{bound:.1f} s bound; 429s {figures['429']:.0f}, duplicates {figures['duplicates']:.0f}, "
            f"losses {figures['losses']:.0f}"
        )


def print_verdict(count: int, bare: Figures, ours: Figures) -> None:
    print(f"gcmbot / bare: {ours['elapsed'] / bare['elapsed']:.3f}x")
    ok = ours["elapsed"] <= GOAL * (count / RATE) and not (ours["429"] or ours["duplicates"] or ours["losses"])
    print("goals met (<= 1.1x, 0 429s, 0 duplicates, 0 losses)" if ok else "GOALS NOT MET")


def bot_env(settings: dict[str, str]) -> dict[str, str]:
    """The environment for a ``gcmbot run`` process: ours without any bot settings, then ``settings``."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "BOT_"))} | settings


def ready(port: int) -> bool:
    """Whether the health server on ``port`` reports the bot ready."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(json.load(answer)["ready"])
    except OSError:
        return False


def rss_mib(pid: int) -> float:
    """The resident memory of process ``pid``, in MiB."""
    return psutil.Process(pid).memory_info().rss / 2**20


async def add_reminders(
    session: AsyncSession, times: Sequence[datetime], *, tables: Sequence[str], title: str, owner: str, tag: str
) -> None:
    """A meeting an hour after each of ``times`` (tables taken in turn, titled ``title`` and its
    number) and its one reminder, pending and due at that time, written in bulk."""
    if not times:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "table_code": tables[i % len(tables)], "title": f"{title} {i}",
            "starts_at": at + timedelta(hours=1), "timezone": "America/Bogota", "offsets": [3600],
            "quarterly": False, "occurrence": 0, "status": "scheduled", "revision": 0,
            "created_by": owner, "created_at": now, "updated_at": now,
        }
        for i, at in enumerate(times)
    ]
    await session.execute(insert(Meeting), rows)
    ids = list(await session.scalars(select(Meeting.id).order_by(Meeting.id)))[-len(rows):]
    await session.execute(insert(Notice), [
        {
            "key": f"reminder:{mid}:{tag}:3600", "kind": "reminder", "status": "pending", "due_at": at,
            "expires_at": at + timedelta(hours=1), "meeting_id": mid, "table_code": row["table_code"],
            "owner": owner, "payload": {"offset": 3600}, "reported": False, "created_at": now,
        }
        for mid, at, row in zip(ids, times, rows, strict=True)
    ])
