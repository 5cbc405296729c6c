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
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import GOAL, RATE, bare_send, control, fake_server, outcome, register_chats  # noqa: E402
from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from storage import chats, deliveries, subscriptions  # noqa: E402
from tests.fakes.telegram_api import make_group  # noqa: E402

TOKENS = {"baseline": "7100001:bench-bare-ptb", "gcmbot": "7100002:bench-gcmbot"}
TEXT = "Reunión extraordinaria de la Mesa 2 el lunes a las 15:00"


def group_id(index: int) -> int:
    return -1007000000000 - index


def groups(count: int) -> list[int]:
    return [group_id(i) for i in range(count)]


async def register_groups(http: aiohttp.ClientSession, url: str, token: str, count: int) -> None:
    await register_chats(http, url, token, [make_group(group_id(i), f"Group {i}") for i in range(count)])


async def baseline(http: aiohttp.ClientSession, url: str, count: int) -> dict[str, float]:
    token = TOKENS["baseline"]
    await register_groups(http, url, token, count)
    started = await bare_send(url, token, groups(count), TEXT)
    return await outcome(http, url, token, groups(count), started)


async def gcmbot(http: aiohttp.ClientSession, url: str, count: int, tmp: Path) -> dict[str, float]:
    token = TOKENS["gcmbot"]
    await register_groups(http, url, token, count)
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
    return await outcome(http, url, token, groups(count), started)


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
