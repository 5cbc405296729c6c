"""Broadcast benchmark: one broadcast to 1,000 chats on the fake Bot API server enforcing
Telegram's flood limits (30 messages a second per bot, 20 a minute per group).

Figures: elapsed time from the confirmation to the last chat served, against the 33.3 s bound
(1,000 / 30; goal at most 1.1x), 429 answers received, duplicates and losses (goals 0, 0, 0).
Baseline, measured in the same run: the same 1,000 messages sent by python-telegram-bot alone
(the same AIORateLimiter pacing, the same concurrency, no database, no outbox).

The fake server runs in its own process (``python -m tests.fakes.telegram_api --rate-limits``),
so it neither competes with the bot for the event loop nor sees its timing distorted by it.

    .venv/bin/python bench/broadcast.py [--chats 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder  # noqa: E402

from bot.adapters.telegram import FLOOD_LIMITS, TelegramAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.delivery import CONCURRENCY  # noqa: E402
from storage import chats, deliveries, subscriptions  # noqa: E402
from tests.fakes.telegram_api import make_group  # noqa: E402

GOAL = 1.1
RATE = 30
TOKENS = {"baseline": "7100001:bench-bare-ptb", "gcmbot": "7100002:bench-gcmbot"}
BARE_RETRIES = 3
"""The bare bot retries 429s inside AIORateLimiter; ours retries them in the sender."""
TEXT = "Reunión extraordinaria de la Mesa 2 el lunes a las 15:00"


def group_id(index: int) -> int:
    return -1007000000000 - index


@asynccontextmanager
async def fake_server() -> AsyncIterator[str]:
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
    method = http.post if body is not None else http.get
    async with method(f"{url}/fake/bot{token}/{action}", json=body) as response:
        return await response.json()


async def register_chats(http: aiohttp.ClientSession, url: str, token: str, count: int) -> None:
    for start in range(0, count, 100):
        await asyncio.gather(*(
            control(http, url, token, "chats", make_group(group_id(i), f"Group {i}"))
            for i in range(start, min(start + 100, count))
        ))


async def outcome(http: aiohttp.ClientSession, url: str, token: str, count: int, started: float) -> dict[str, float]:
    """What the server saw: elapsed until the last chat was served, 429s, duplicates, losses."""
    calls = await control(http, url, token, "calls")
    sent = [c for c in calls if c["method"] == "sendmessage" and c["status"] == 200 and c["params"]["chat_id"] < 0]
    per_chat = Counter(c["params"]["chat_id"] for c in sent)
    stats = await control(http, url, token, "stats")
    return {
        "elapsed": max(c["at"] for c in sent) - started,
        "429": stats["rate_limited"],
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "losses": sum(1 for i in range(count) if per_chat[group_id(i)] == 0),
    }


async def baseline(http: aiohttp.ClientSession, url: str, count: int) -> dict[str, float]:
    token = TOKENS["baseline"]
    await register_chats(http, url, token, count)
    application = (
        ApplicationBuilder().token(token).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=BARE_RETRIES, **FLOOD_LIMITS)).job_queue(None).build()
    )
    await application.initialize()
    slots = asyncio.Semaphore(CONCURRENCY["telegram"])

    async def send(index: int) -> None:
        async with slots:
            await application.bot.send_message(group_id(index), TEXT, parse_mode=ParseMode.HTML)

    started = time.time()
    await asyncio.gather(*(send(i) for i in range(count)))
    await application.shutdown()
    return await outcome(http, url, token, count, started)


async def gcmbot(http: aiohttp.ClientSession, url: str, count: int, tmp: Path) -> dict[str, float]:
    token = TOKENS["gcmbot"]
    await register_chats(http, url, token, count)
    await control(http, url, token, "chats", {"id": 4242, "type": "private", "first_name": "Sec"})
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}",
        telegram_token=token, telegram_base_url=url,
    )
    app = App(settings)
    await app.start()
    async with app.db.transaction() as session:
        for index in range(count):
            chat = await chats.ensure_chat(session, "telegram", str(group_id(index)), private=False)
            chat.language = "en" if index % 2 else "es"
            await subscriptions.subscribe(session, "telegram", chat.chat_id, "WT2", "telegram:4242")
        draft = await deliveries.ensure_notice(
            session, key="broadcast:bench", kind="broadcast", due_at=None, table_code="WT2", owner="telegram:4242",
            payload={"target": "WT2", "text": TEXT, "chat": {"platform": "telegram", "chat_id": "4242"}},
            status=deliveries.DRAFT,
        )
        assert draft is not None
    adapter = TelegramAdapter(settings)
    app.add(adapter)
    receiving = asyncio.create_task(adapter.run(app))
    await adapter.started.wait()
    await app.scheduler.start()
    await app.sender.idle()
    started = time.time()
    async with app.db.transaction() as session:  # the secretary confirms
        await deliveries.set_status_if(session, draft.id, deliveries.DRAFT, deliveries.PENDING, due_at=datetime.now(UTC))
    app.scheduler.wake()
    while app.sender.stats["sent"] < count + 1:  # every chat, and the report to the secretary
        await asyncio.sleep(0.1)
    await app.scheduler.stop()
    receiving.cancel()
    await asyncio.gather(receiving, return_exceptions=True)
    await app.close()
    return await outcome(http, url, token, count, started)


async def main(count: int) -> None:
    bound = count / RATE
    async with fake_server() as url, aiohttp.ClientSession() as http:
        bare = await baseline(http, url, count)
        with tempfile.TemporaryDirectory() as tmp:
            ours = await gcmbot(http, url, count, Path(tmp))
    for name, figures in (("bare python-telegram-bot", bare), ("gcmbot broadcast", ours)):
        print(
            f"{name:>24}: {count} chats in {figures['elapsed']:.1f} s = {figures['elapsed'] / bound:.3f}x the "
            f"{bound:.1f} s bound; 429s {figures['429']:.0f}, duplicates {figures['duplicates']:.0f}, "
            f"losses {figures['losses']:.0f}"
        )
    print(f"gcmbot / bare: {ours['elapsed'] / bare['elapsed']:.3f}x")
    ok = ours["elapsed"] <= GOAL * bound and not (ours["429"] or ours["duplicates"] or ours["losses"])
    print("goals met (<= 1.1x, 0 429s, 0 duplicates, 0 losses)" if ok else "GOALS NOT MET")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=1000)
    asyncio.run(main(parser.parse_args().chats))
