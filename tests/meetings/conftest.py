"""Meetings fixtures: a fake platform that records what the outbox sends (and answers what a test
scripts), and helpers that make secretaries, subscribed chats and member organisations."""

from __future__ import annotations

import asyncio
import io
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.base import Delivery, Hub, Status
from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.markup import plain
from handlers.message import Address, Message, Reply, User
from storage import chats, organisations, roles, subscriptions
from storage.deliveries import DeliveryRecord, Notice
from storage.meetings import Meeting
from tests.conftest import FakeClock, make_settings

FAKE = "fake"


@dataclass
class FakePlatform:
    """A platform adapter implementing the port of ``bot.adapters.base``: it records each reply
    it accepts; ``script[chat]`` lists the answers to give that chat first (then SENT)."""

    platform: str = FAKE
    sent: list[Reply] = field(default_factory=list)
    script: dict[str, list[Delivery]] = field(default_factory=lambda: defaultdict(list))
    attempts: Counter[str] = field(default_factory=Counter)

    async def run(self, hub: Hub) -> None:
        await asyncio.Event().wait()

    async def send(self, reply: Reply) -> Delivery:
        assert reply.to is not None
        key = reply.to.chat_id or f"user:{reply.to.user_id}"
        self.attempts[key] += 1
        if self.script[key]:
            result = self.script[key].pop(0)
            if result.status is not Status.SENT:
                return result
        self.sent.append(reply)
        return Delivery(Status.SENT, message_id=str(len(self.sent)))

    def texts(self, chat: str) -> list[str]:
        """Plain text of what ``chat`` (a chat id, or ``user:<id>``) received, oldest first."""
        return [plain(r.html) for r in self.sent if (r.to and (r.to.chat_id or f"user:{r.to.user_id}")) == chat]


@pytest.fixture
def fake(app: App) -> FakePlatform:
    adapter = FakePlatform()
    app.add(adapter)
    return adapter


@asynccontextmanager
async def restarted(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[App, FakePlatform]]:
    """The bot started again on ``database_url`` (an earlier one has stopped), sending through a
    fresh :class:`FakePlatform`; closed on leaving."""
    app = App(make_settings(database_url), clock=clock)
    await app.start()
    fake = FakePlatform()
    app.add(fake)
    try:
        yield app, fake
    finally:
        await app.close()


@pytest.fixture
def console(app: App, tmp_path: Path) -> ConsoleAdapter:
    """The console, quiet: what the outbox sends to console chats is not printed."""
    adapter = ConsoleAdapter(app.hub, files_dir=tmp_path / "files", output=io.StringIO())
    app.add(adapter)
    return adapter


def text_of(replies: Iterable[Reply]) -> str:
    return "\n".join(plain(r.html) for r in replies)


async def make_secretary(app: App, user_key: str, table: str) -> None:
    async with app.db.transaction() as session:
        await roles.add_secretary(session, user_key, table, "console:admin")


async def make_chat(
    app: App,
    chat_id: str,
    *,
    tables: Iterable[str] = (),
    language: str | None = None,
    timezone: str | None = None,
    platform: str = FAKE,
    private: bool = False,
) -> Address:
    """A chat the bot is in, with its settings, subscribed to ``tables``."""
    async with app.db.transaction() as session:
        row = await chats.ensure_chat(session, platform, chat_id, private=private, title=f"chat {chat_id}")
        row.language, row.timezone = language, timezone
        for table in tables:
            await subscriptions.subscribe(session, platform, chat_id, table, "console:admin")
    return Address(platform, chat_id=chat_id)


async def make_member(
    app: App, user_key: str, name: str, tables: Iterable[str], *, language: str = "es", at: datetime
) -> None:
    """An organisation approved in ``tables`` whose contact is ``user_key``."""
    async with app.db.transaction() as session:
        organisation = await organisations.create_organisation(
            session, name=name, country="CO", stakeholder_type="ngo", contact_name="Contact",
            contact_email="contact@example.org", contact_user=user_key, language=language,
            tables=list(tables), at=at,
        )
        for membership in organisation.memberships:
            await organisations.decide(session, membership.id, organisations.APPROVED, "console:admin", at)


async def in_group(app: App, chat_id: str, user_id: str, text: str, platform: str = FAKE) -> list[Reply]:
    """``text`` written by ``user_id`` in a group chat."""
    message = Message(
        Address(platform, chat_id=chat_id), User(platform, user_id, name=user_id), text, private=False,
        message_id="7", chat_title=f"group {chat_id}",
    )
    return await app.core.handle(message)


async def count(app: App, model: type[Meeting] | type[Notice] | type[DeliveryRecord]) -> int:
    async with app.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0
