"""The whole bot on Telegram: App + TelegramAdapter (real python-telegram-bot) polling the
fake Bot API server over HTTP, on a temporary SQLite database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import App
from handlers.message import Address, Message, Reply, User
from tests.conftest import FakeClock, make_settings
from tests.fakes.telegram_api import FakeBot, FakeTelegram, make_group, make_user, parse_html

TOKEN = "5550001:AAtest-token_for-the-fake"
BOT_USERNAME = "GcmTestBot"

ANA = make_user(1001, "Ana", last_name="Pérez", username="ana_p", language_code="es")
JOHN = make_user(1002, "John", username="johnny", language_code="en-GB")
LUCIA = make_user(1003, "Lucía", language_code="es-419")
GROUP = make_group(-1001234567890, "WT2 · Fronteras")


class RecordingHub:
    """The App as the adapter's hub, noting each message once it has been fully answered."""

    def __init__(self, app: App, fake: FakeTelegram) -> None:
        self.app = app
        self.fake = fake
        self.handled: list[Message] = []
        self.fail_on: Callable[[Message], bool] = lambda message: False

    def menu(self, language: str) -> list[tuple[str, str]]:
        return self.app.hub.menu(language)

    def is_command(self, name: str, *, or_close: bool = False) -> bool:
        return self.app.hub.is_command(name, or_close=or_close)

    async def chat_language(self, address: Address) -> str | None:
        return await self.app.hub.chat_language(address)

    async def dispatch(self, message: Message) -> None:
        try:
            if self.fail_on(message):
                raise RuntimeError("hub failure injected by the test")
            await self.app.dispatch(message)
        finally:
            self.handled.append(message)
            self.fake.changed()


@dataclass
class Telegram:
    """Handles on a running bot: the fake server's bot account, the app and the adapter."""

    fake: FakeTelegram
    bot: FakeBot
    app: App
    adapter: TelegramAdapter
    hub: RecordingHub
    references: dict[str, int] = field(default_factory=dict)

    async def say(self, chat: dict[str, Any], user: dict[str, Any], text: str, **extra: Any) -> list[dict[str, Any]]:
        """``user`` writes ``text`` in ``chat``; the messages the bot sent there in answer."""
        before = len(self.bot.sent(chat["id"]))
        message = self.bot.message(chat, user, text, **extra)
        await self.handled(chat["id"], message["message_id"])
        return self.bot.sent(chat["id"])[before:]

    async def ignored(self, chat: dict[str, Any], user: dict[str, Any], text: str, **extra: Any) -> bool:
        """``user`` writes ``text`` in ``chat``: True when the bot neither handled nor answered it.

        A chat's updates are handled in order, so once a later command in the same chat has
        been answered, this message has been seen."""
        message = self.bot.message(chat, user, text, **extra)
        await self.say(chat, user, f"/help@{BOT_USERNAME}")
        answers = [m for m in self.bot.sent(chat["id"]) if m.get("reply_to_message", {}).get("message_id") == message["message_id"]]
        handled = [m for m in self.hub.handled if m.chat.chat_id == str(chat["id"]) and m.message_id == str(message["message_id"])]
        return not answers and not handled

    async def press(self, user: dict[str, Any], message: dict[str, Any], data: str) -> list[dict[str, Any]]:
        chat_id = message["chat"]["id"]
        before = len(self.bot.sent(chat_id))
        query_id = self.bot.press(user, message, data)
        await self.fake.wait_for(lambda: query_id in self.bot.answered_callbacks)
        await self.handled(chat_id, message["message_id"])
        return self.bot.sent(chat_id)[before:]

    async def handled(self, chat_id: int, message_id: int) -> Message:
        """Wait until the core's message for Telegram message ``message_id`` has been answered."""

        def done() -> Message | None:
            return next(
                (
                    m for m in reversed(self.hub.handled)
                    if m.chat.chat_id == str(chat_id) and m.message_id == str(message_id)
                ),
                None,
            )

        return await self.fake.wait_for(done)

    async def expected(self, text: str, language: str | None, *, private: bool = True) -> list[Reply]:
        """What the core answers ``text`` with in a fresh chat of its own (sender in ``language``)."""
        self.references[text] = self.references.get(text, 0) + 1
        ref = f"ref-{len(self.references)}-{self.references[text]}"
        message = Message(
            Address("reference", chat_id=ref),
            User("reference", ref, name="Ref", language_code=language),
            text,
            private=private,
            message_id="1",
        )
        return await self.app.core.handle(message)


def shown(markup: str) -> str:
    """The text Telegram displays for a reply's HTML."""
    return parse_html(markup)[0].strip()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(bots={TOKEN: BOT_USERNAME})
    await server.start()
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def running(fake: FakeTelegram, sqlite_url: str, clock: FakeClock, **settings: Any) -> AsyncIterator[Telegram]:
    """The App with a running TelegramAdapter pointed at ``fake``, and its outbox's scheduler."""
    app = App(
        make_settings(sqlite_url, telegram_token=TOKEN, telegram_base_url=fake.url, **settings),
        clock=clock,
    )
    await app.start()
    adapter = TelegramAdapter(app.settings, retry_delay=0.01)
    app.add(adapter)
    hub = RecordingHub(app, fake)
    task = asyncio.create_task(adapter.run(hub))
    try:
        async with asyncio.timeout(10):
            started = asyncio.create_task(adapter.started.wait())
            await asyncio.wait([started, task], return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                started.cancel()
                task.result()
        await app.scheduler.start()
        yield Telegram(fake, fake.bot(TOKEN), app, adapter, hub)
    finally:
        await app.scheduler.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.close()


@pytest.fixture
async def telegram(fake: FakeTelegram, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Telegram]:
    async with running(fake, sqlite_url, clock) as harness:
        yield harness
