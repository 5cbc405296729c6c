"""The fake Bot API server itself: Telegram's flood limits, and driving it from another process."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest

from tests.fakes.telegram_api import FakeBot, FakeTelegram, RateLimits, make_user, private_chat
from tests.telegram.conftest import BOT_USERNAME, TOKEN


async def test_fake_server_enforces_the_flood_limits() -> None:
    async with FakeTelegram(rate_limits=RateLimits(jitter=0)) as fake, aiohttp.ClientSession() as http:
        busy, quiet = fake.bot(TOKEN), fake.bot("5550002:another-bot")
        group = {"id": -100777, "type": "supergroup", "title": "G"}
        quiet.add_chat(group)
        for n in range(1, 41):
            busy.add_chat(private_chat(make_user(n, f"U{n}")))

        async def send(bot: FakeBot, chat_id: int) -> dict:
            url = f"{fake.url}/bot{bot.token}/sendMessage"
            async with http.post(url, data={"chat_id": str(chat_id), "text": "hola"}) as response:
                body = await response.json()
                assert response.status == body.get("error_code", 200)
                return body

        overall = [await send(busy, n) for n in range(1, 41)]
        in_group = [await send(quiet, group["id"]) for _ in range(22)]

    assert all(b["ok"] for b in overall[:30])
    refused = [b for b in overall[30:] if not b["ok"]]
    assert refused and refused[0]["error_code"] == 429 and refused[0]["parameters"]["retry_after"] >= 1
    assert busy.rate_limited == len(refused)
    assert [b["ok"] for b in in_group] == [True] * 20 + [False] * 2
    assert in_group[-1]["description"].startswith("Too Many Requests: retry after")
    assert in_group[-1]["parameters"]["retry_after"] >= 3


async def test_standalone_server_driven_over_http() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        root = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()
        user = make_user(42, "Ana", language_code="es")
        update = {"message": {"message_id": 1, "date": 0, "chat": private_chat(user), "from": user, "text": "/start"}}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{root}/fake/bot{TOKEN}/updates", json=update) as response:
                update_id = (await response.json())["update_id"]
            async with http.post(f"{root}/bot{TOKEN}/getUpdates", json={"timeout": 5}) as response:
                polled = await response.json()
            async with http.post(f"{root}/bot{TOKEN}/sendMessage", data={"chat_id": "42", "text": "<b>Hola</b>", "parse_mode": "HTML"}) as response:
                sent = await response.json()
            async with http.get(f"{root}/fake/bot{TOKEN}/calls") as response:
                calls = await response.json()
    finally:
        process.terminate()
        await process.wait()

    assert polled == {"ok": True, "result": [{"update_id": update_id, **update}]}
    assert sent["result"]["text"] == "Hola" and sent["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert [(c["method"], c["status"]) for c in calls] == [("getupdates", 200), ("sendmessage", 200)]


async def test_editing_and_reading_back_through_python_telegram_bot(fake: FakeTelegram) -> None:
    user = make_user(7, "Ana")
    fake.bot(TOKEN).add_chat(private_chat(user))
    async with Bot(TOKEN, base_url=f"{fake.url}/bot") as bot:
        sent = await bot.send_message(7, "<b>Reunión</b> el martes", parse_mode="HTML")
        edited = await bot.edit_message_text("<b>Reunión</b> el jueves", 7, sent.message_id, parse_mode="HTML")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("<b>Reunión</b> el jueves", 7, sent.message_id, parse_mode="HTML")
        await bot.set_my_commands([("mesa", "Una mesa")], language_code="es")
        commands = await bot.get_my_commands(language_code="es")
        me = await bot.get_me()

    assert (edited.text, edited.entities[0].type, edited.message_id) == ("Reunión el jueves", "bold", sent.message_id)
    assert [(c.command, c.description) for c in commands] == [("mesa", "Una mesa")]
    assert me.username == BOT_USERNAME and me.is_bot
