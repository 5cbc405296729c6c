"""Wiring: the database, the core with every feature's commands, and the adapters."""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.base import Adapter, Delivery, Status
from bot.config import Settings
from bot.delivery import Sender, grace_window
from bot.scheduler import Scheduler
from handlers import (
    approval,
    audit,
    basics,
    broadcast,
    meetings,
    members,
    pledge_commands,
    pledge_import,
    pledges,
    registration,
    roles,
    subscriptions,
)
from handlers.clock import Clock
from handlers.core import Core
from handlers.message import Message, Reply
from handlers.registry import Registry
from storage.db import Database

log = logging.getLogger(__name__)


def registries() -> list[Registry]:
    """Every feature's commands, flows and intents, composed into one core."""
    return [
        basics.registry,
        registration.registry,
        approval.registry,
        members.registry,
        roles.registry,
        audit.registry,
        meetings.registry,
        subscriptions.registry,
        broadcast.registry,
        pledges.registry,
        pledge_commands.registry,
        pledge_import.registry,
    ]


class App:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.core = Core(self.db, settings.core_config(), registries(), clock)
        self.adapters: dict[str, Adapter] = {}
        self.sender = Sender(self, grace=grace_window(settings.reminder_grace))
        self.scheduler = Scheduler(self.sender, self.core.clock)
        self.db.on_planned.append(self.scheduler.wake)

    def add(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    async def start(self) -> None:
        await self.db.migrate()

    async def close(self) -> None:
        await self.db.close()

    async def dispatch(self, message: Message) -> None:
        """Answer a message: each reply goes out through the adapter of its platform.

        Messages to other people were planned in the outbox by the handler; the commit that
        planned them woke the sender (``Database.on_planned``), so nothing else is done here."""
        for reply in await self.core.handle(message):
            await self.deliver(reply)

    async def deliver(self, reply: Reply) -> Delivery:
        """Send a reply now, waiting out transient failures (the sender's retry policy)."""
        return await self.sender.send_now(reply)

    async def send_once(self, reply: Reply) -> Delivery:
        """One attempt through the adapter of the reply's platform; a chat that refuses the bot
        is marked inactive. Never raises for what the platform or the adapter does."""
        if reply.to is None:
            raise ValueError("a reply to deliver needs an address")
        adapter = self.adapters.get(reply.to.platform)
        if adapter is None:
            log.warning("no %s adapter running; reply to %s dropped", reply.to.platform, reply.to)
            return Delivery(Status.FAILED, error="platform not running")
        try:
            delivery = await adapter.send(reply)
        except Exception as error:
            log.exception("the %s adapter raised sending to %s", reply.to.platform, reply.to)
            return Delivery(Status.RETRY, error=repr(error)[:500])
        if delivery.status is Status.BLOCKED and reply.to.chat_id:
            await self.core.mark_inactive(reply.to)
        return delivery

    def configured_adapters(self) -> list[Adapter]:
        """The platforms configured in the environment; the console when there is none."""
        adapters: list[Adapter] = []
        if self.settings.telegram_enabled:
            from bot.adapters.telegram import TelegramAdapter

            adapters.append(TelegramAdapter(self.settings))
        if self.settings.matrix_enabled:
            from bot.adapters.matrix import MatrixAdapter

            adapters.append(MatrixAdapter(self.settings, self.db))
        if not adapters:
            from bot.adapters.console import ConsoleAdapter

            adapters.append(ConsoleAdapter(self.core))
        return adapters

    async def run(self) -> None:
        """Start every configured adapter in this process and run until one stops."""
        await self.start()
        try:
            for adapter in self.configured_adapters():
                self.add(adapter)
            await self.scheduler.start()
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(a.run(self)) for a in self.adapters.values()]
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in tasks:
                    task.cancel()
        finally:
            await self.scheduler.stop()
            await self.close()
