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
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    Figures, bare_send, control, measured, outcome, print_figures,
    print_verdict, register_chats, sending, started_app, until_sent,
)
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


async def baseline(http: aiohttp.ClientSession, url: str, count: int) -> Figures:
    token = TOKENS["baseline"]
    await register_groups(http, url, token, count)
    started = await bare_send(url, token, groups(count), TEXT)
    return await outcome(http, url, token, groups(count), started)


async def gcmbot(http: aiohttp.ClientSession, url: str, count: int, tmp: Path) -> Figures:
    token = TOKENS["gcmbot"]
    await register_groups(http, url, token, count)
    await control(http, url, token, "chats", {"id": 4242, "type": "private", "first_name": "Sec"})
    app = await started_app(url, token, tmp)
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
    async with sending(app):
        started = time.time()
        async with app.db.transaction() as session:  # the secretary confirms
            await deliveries.set_status_if(
                session, draft.id, deliveries.DRAFT, deliveries.PENDING, due_at=datetime.now(UTC)
            )
        await until_sent(app, count + 1)  # every chat, and the report to the secretary
    return await outcome(http, url, token, groups(count), started)


async def main(count: int) -> None:
    bare, ours = await measured(count, baseline, gcmbot)
    print_figures(count, "chats", [("bare python-telegram-bot", bare), ("gcmbot broadcast", ours)])
    print_verdict(count, bare, ours)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=1000)
    asyncio.run(main(parser.parse_args().chats))
