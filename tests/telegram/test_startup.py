"""Starting on Telegram: the command menus, webhook mode, and ``gcmbot run`` as a process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.base import Status
from telegram.error import InvalidToken

from bot.adapters.telegram import TelegramAdapter
from bot.app import App
from handlers.knowledge import fold
from handlers.i18n import _, use_locale
from handlers.message import Address, Reply
from tests.conftest import FakeClock, make_settings
from tests.fakes.telegram_api import SECRET_HEADER, FakeTelegram, private_chat
from tests.telegram.conftest import ANA, BOT_USERNAME, GROUP, JOHN, TOKEN, Telegram, running, shown

REPO = Path(__file__).resolve().parents[2]


async def test_command_menus_per_language_and_scope(telegram: Telegram) -> None:
    commands = [c for c in telegram.app.services.commands.commands if not c.privileged]
    bot = telegram.bot

    for language in ("es", "en", "pt", "fr", ""):
        shown_language = language or telegram.app.settings.bot_language
        with use_locale(shown_language):
            expected = [
                {"command": fold(c.name(shown_language)), "description": _(c.help)} for c in commands
            ]
        for scope in ("all_private_chats", "all_group_chats"):
            assert bot.commands_for(scope, language) == expected
    names = {
        language: {c["command"] for c in bot.commands_for("all_private_chats", language)}
        for language in ("es", "en", "pt", "fr")
    }
    assert {"objetivo", "mesa", "start"} <= names["es"] and {"objective", "table", "start"} <= names["en"]
    assert {"objetivo", "mesa", "ajuda", "cadastro"} <= names["pt"]
    assert {"objectif", "table", "aide", "inscription"} <= names["fr"]
    descriptions = {language: bot.commands_for("all_private_chats", language)[0]["description"] for language in ("es", "pt", "fr")}
    assert len(set(descriptions.values())) == 3
    assert bot.commands_for("all_private_chats", "es")[0]["description"] != bot.commands_for(
        "all_private_chats", "en"
    )[0]["description"]
    assert not bot.commands_for("default")


async def test_privileged_commands_stay_out_of_the_menus(telegram: Telegram) -> None:
    privileged = {fold(c.name(lang)) for c in telegram.app.services.commands.commands if c.privileged for lang in c.names}
    listed = {c["command"] for key in telegram.bot.commands for c in telegram.bot.commands[key]}

    assert not privileged & listed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_checks_the_secret(fake: FakeTelegram, sqlite_url: str, clock: FakeClock) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/telegram"
    settings = {
        "telegram_webhook_url": url,
        "telegram_webhook_listen": "127.0.0.1",
        "telegram_webhook_port": port,
        "telegram_webhook_secret": "s3cret-Token_1",
    }
    async with running(fake, sqlite_url, clock, **settings) as telegram:
        (webhook,) = telegram.bot.requests("setWebhook")
        assert webhook.params["url"] == url and webhook.params["secret_token"] == "s3cret-Token_1"
        assert not telegram.bot.requests("getUpdates")

        sent = await telegram.say(private_chat(ANA), ANA, "/objetivo 10")
        (reply,) = await telegram.expected("/objetivo 10", "es")
        assert [m["text"] for m in sent] == [shown(reply.html)]

        forged = {"update_id": 1, "message": {
            "message_id": 99, "date": 0, "chat": private_chat(JOHN), "from": JOHN, "text": "/start"}}
        async with aiohttp.ClientSession() as http:
            for headers in ({SECRET_HEADER: "wrong"}, {}):
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 403
        assert await telegram.ignored(GROUP, JOHN, "just chatting")
        assert all(m.sender.id != str(JOHN["id"]) or m.chat.chat_id != str(JOHN["id"]) for m in telegram.hub.handled)
        assert all(status == 200 for _update, status in telegram.bot.webhook_deliveries)


@pytest.mark.slow  # a real `gcmbot run` process
async def test_gcmbot_run_answers_on_telegram_and_stops_on_interrupt(fake: FakeTelegram, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        "BOT_LANGUAGE": "es",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run",
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    bot = fake.bot(TOKEN)
    try:
        await fake.wait_for(lambda: bot.requests("getUpdates"), timeout=30)
        bot.private(ANA, "/start")
        bot.group(GROUP, JOHN, "random chatter")
        bot.group(GROUP, JOHN, f"/mesa@{BOT_USERNAME} 2")
        private = await bot.wait_sent(ANA["id"], timeout=30)
        group = await bot.wait_sent(GROUP["id"], timeout=30)
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=30)

    assert private[0]["text"] and group[0]["reply_to_message"]["text"] == f"/mesa@{BOT_USERNAME} 2"
    assert len(bot.sent(GROUP["id"])) == 1
    assert b"Telegram: @GcmTestBot is listening" in err
    assert b"Application.stop() complete" in err and b" ERROR " not in err
    assert not bot.updates  # every update was confirmed before stopping: none answered twice


async def test_waits_for_an_unreachable_bot_api_server(
    sqlite_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    app = App(make_settings(sqlite_url, telegram_token=TOKEN, telegram_base_url=f"http://127.0.0.1:{port}"), clock=clock)
    await app.start()
    adapter = TelegramAdapter(app.settings, retry_delay=0.05)
    app.add(adapter)
    fake = FakeTelegram(port=port, bots={TOKEN: BOT_USERNAME})
    task = asyncio.create_task(adapter.run(app.hub))
    try:
        with caplog.at_level(logging.WARNING, logger="bot.adapters.telegram"):
            async with asyncio.timeout(10):
                while not any("unreachable" in r.getMessage() for r in caplog.records):
                    await asyncio.sleep(0.01)
            await fake.start()
            await asyncio.wait_for(adapter.started.wait(), timeout=10)
            await fake.stop()
            down = await adapter.send(Reply("hola", to=Address("telegram", chat_id=str(ANA["id"]))))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.close()

    assert fake.bot(TOKEN).requests("getMe")[-1].ok
    assert down.status is Status.RETRY and down.retry_after == 0  # one attempt; the sender decides when again
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


async def test_a_revoked_token_stops_the_adapter(sqlite_url: str, clock: FakeClock) -> None:
    async with FakeTelegram(bots={"5550009:still-valid": BOT_USERNAME}, any_token=False) as fake:
        app = App(make_settings(sqlite_url, telegram_token=TOKEN, telegram_base_url=fake.url), clock=clock)
        await app.start()
        try:
            with pytest.raises(InvalidToken):
                await asyncio.wait_for(TelegramAdapter(app.settings).run(app.hub), timeout=10)
        finally:
            await app.close()
