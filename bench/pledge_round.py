"""Pledge round benchmark: a reporting round over 1,000 organisations with 3 pledges each, on the
fake Bot API server enforcing Telegram's flood limits (30 messages a second per bot).

Figures: elapsed time from opening the round (``/compromisos pedir todo``: planning every request
included) to the last contact served, against the 33.3 s bound (1,000 / 30; goal at most 1.1x),
429 answers, duplicates and losses (goals 0, 0, 0). Baseline, measured in the same run: the same
1,000 private messages sent by python-telegram-bot alone (same pacing and concurrency, no
database, no outbox). That a restart in the middle of a round sends nothing twice is a test
(tests/pledges/test_rounds.py), not a figure.

    .venv/bin/python bench/pledge_round.py [--organisations 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder  # noqa: E402

from bench.broadcast import BARE_RETRIES, GOAL, RATE, control, fake_server  # noqa: E402
from bot.adapters.telegram import FLOOD_LIMITS, TelegramAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.delivery import CONCURRENCY  # noqa: E402
from handlers.pledge_rounds import start_round  # noqa: E402
from storage import chats, organisations, pledges  # noqa: E402
from storage.organisations import APPROVED  # noqa: E402

TOKENS = {"baseline": "7200001:bench-bare-ptb", "gcmbot": "7200002:bench-pledges"}
TEXT = "Ronda de informes de compromisos 2027-04: ¿cómo van los compromisos de Org 1?"
FIRST_USER = 300_000


def user_id(index: int) -> int:
    return FIRST_USER + index


async def register_users(http: aiohttp.ClientSession, url: str, token: str, count: int) -> None:
    for start in range(0, count, 100):
        await asyncio.gather(*(
            control(http, url, token, "chats", {"id": user_id(i), "type": "private", "first_name": f"U{i}"})
            for i in range(start, min(start + 100, count))
        ))


async def outcome(http: aiohttp.ClientSession, url: str, token: str, count: int, started: float) -> dict[str, float]:
    calls = await control(http, url, token, "calls")
    sent = [c for c in calls if c["method"] == "sendmessage" and c["status"] == 200]
    per_user = Counter(c["params"]["chat_id"] for c in sent)
    stats = await control(http, url, token, "stats")
    return {
        "elapsed": max(c["at"] for c in sent) - started,
        "429": stats["rate_limited"],
        "duplicates": sum(n - 1 for n in per_user.values() if n > 1),
        "losses": sum(1 for i in range(count) if per_user[user_id(i)] == 0),
    }


async def baseline(http: aiohttp.ClientSession, url: str, count: int) -> dict[str, float]:
    token = TOKENS["baseline"]
    await register_users(http, url, token, count)
    application = (
        ApplicationBuilder().token(token).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=BARE_RETRIES, **FLOOD_LIMITS)).job_queue(None).build()
    )
    await application.initialize()
    slots = asyncio.Semaphore(CONCURRENCY["telegram"])

    async def send(index: int) -> None:
        async with slots:
            await application.bot.send_message(user_id(index), TEXT, parse_mode=ParseMode.HTML)

    started = time.time()
    await asyncio.gather(*(send(i) for i in range(count)))
    await application.shutdown()
    return await outcome(http, url, token, count, started)


async def members(app: App, count: int) -> None:
    """``count`` organisations approved in a Working Table, 3 pledges each, contacts on Telegram."""
    now = datetime.now(UTC)
    async with app.db.transaction() as session:
        for index in range(count):
            key = f"telegram:{user_id(index)}"
            organisation = await organisations.create_organisation(
                session, name=f"Org {index}", country="CO", stakeholder_type="ngo", contact_name="C",
                contact_email="c@example.org", contact_user=key, language="en" if index % 2 else "es",
                tables=[f"WT{index % 4 + 1}"], at=now,
            )
            for membership in organisation.memberships:
                membership.status = APPROVED
            await chats.record_user(
                session, "telegram", str(user_id(index)), username=None, name=f"U{index}", language=None,
                private_chat_id=str(user_id(index)),
            )
            for number in range(3):
                await pledges.add_pledge(
                    session, organisation.id, title=f"Pledge {number} of Org {index}", objectives=[index % 23 + 1],
                    description="", url=None, by=None, at=now,
                )


async def gcmbot(http: aiohttp.ClientSession, url: str, count: int, tmp: Path) -> dict[str, float]:
    token = TOKENS["gcmbot"]
    await register_users(http, url, token, count)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}",
        telegram_token=token, telegram_base_url=url,
    )
    app = App(settings)
    await app.start()
    await members(app, count)
    adapter = TelegramAdapter(settings)
    app.add(adapter)
    receiving = asyncio.create_task(adapter.run(app))
    await adapter.started.wait()
    await app.scheduler.start()
    await app.sender.idle()
    started = time.time()
    async with app.db.transaction() as session:  # an admin's /compromisos pedir todo
        _round, asked = await start_round(
            session, datetime.now(UTC), settings.bot_timezone, settings.bot_language, tables=None, by="telegram:1"
        )
    planned = time.time() - started
    assert asked == count, asked
    app.scheduler.wake()
    while app.sender.stats["sent"] < count:
        await asyncio.sleep(0.1)
    await app.scheduler.stop()
    receiving.cancel()
    await asyncio.gather(receiving, return_exceptions=True)
    await app.close()
    return {**await outcome(http, url, token, count, started), "planned": planned}


async def main(count: int) -> None:
    bound = count / RATE
    async with fake_server() as url, aiohttp.ClientSession() as http:
        bare = await baseline(http, url, count)
        with tempfile.TemporaryDirectory() as tmp:
            ours = await gcmbot(http, url, count, Path(tmp))
    for name, figures in (("bare python-telegram-bot", bare), ("gcmbot pledge round", ours)):
        print(
            f"{name:>24}: {count} contacts in {figures['elapsed']:.1f} s = {figures['elapsed'] / bound:.3f}x the "
            f"{bound:.1f} s bound; 429s {figures['429']:.0f}, duplicates {figures['duplicates']:.0f}, "
            f"losses {figures['losses']:.0f}"
        )
    print(f"planning the round's {count} requests ({3 * count} pledges): {ours['planned']:.2f} s")
    print(f"gcmbot / bare: {ours['elapsed'] / bare['elapsed']:.3f}x")
    ok = ours["elapsed"] <= GOAL * bound and not (ours["429"] or ours["duplicates"] or ours["losses"])
    print("goals met (<= 1.1x, 0 429s, 0 duplicates, 0 losses)" if ok else "GOALS NOT MET")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organisations", type=int, default=1000)
    asyncio.run(main(parser.parse_args().organisations))
