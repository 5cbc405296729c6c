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
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    Figures, bare_send, measured, outcome, print_figures, print_verdict,
    register_chats, sending, started_app, until_sent,
)
from bot.app import App  # noqa: E402
from handlers.pledge_rounds import start_round  # noqa: E402
from storage import chats, organisations, pledges  # noqa: E402
from storage.organisations import APPROVED  # noqa: E402

TOKENS = {"baseline": "7200001:bench-bare-ptb", "gcmbot": "7200002:bench-pledges"}
TEXT = "Ronda de informes de compromisos 2027-04: ¿cómo van los compromisos de Org 1?"
FIRST_USER = 300_000


def user_id(index: int) -> int:
    return FIRST_USER + index


def users(count: int) -> list[int]:
    return [user_id(i) for i in range(count)]


async def register_users(http: aiohttp.ClientSession, url: str, token: str, count: int) -> None:
    await register_chats(http, url, token, [
        {"id": user_id(i), "type": "private", "first_name": f"U{i}"} for i in range(count)
    ])


async def baseline(http: aiohttp.ClientSession, url: str, count: int) -> Figures:
    token = TOKENS["baseline"]
    await register_users(http, url, token, count)
    started = await bare_send(url, token, users(count), TEXT)
    return await outcome(http, url, token, users(count), started)


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


async def gcmbot(http: aiohttp.ClientSession, url: str, count: int, tmp: Path) -> Figures:
    token = TOKENS["gcmbot"]
    await register_users(http, url, token, count)
    app = await started_app(url, token, tmp)
    await members(app, count)
    async with sending(app):
        started = time.time()
        async with app.db.transaction() as session:  # an admin's /compromisos pedir todo
            _round, asked = await start_round(
                session, datetime.now(UTC), app.settings.bot_timezone, app.settings.bot_language, tables=None,
                by="telegram:1",
            )
        planned = time.time() - started
        assert asked == count, asked
        await until_sent(app, count)
    return {**await outcome(http, url, token, users(count), started), "planned": planned}


async def main(count: int) -> None:
    bare, ours = await measured(count, baseline, gcmbot)
    print_figures(count, "contacts", [("bare python-telegram-bot", bare), ("gcmbot pledge round", ours)])
    print(f"planning the round's {count} requests ({3 * count} pledges): {ours['planned']:.2f} s")
    print_verdict(count, bare, ours)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organisations", type=int, default=1000)
    asyncio.run(main(parser.parse_args().organisations))
