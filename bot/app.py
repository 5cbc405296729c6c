"""Wiring: the database, the core with every feature's commands, and the adapters.

``run`` takes part in the leadership of :mod:`bot.leadership`: adapters that receive on their
own initiative (Telegram long polling, Matrix sync) and the outbox sender run only while this
process leads, and are started afresh each time it becomes the leader; a Telegram webhook and
the console receive on every instance (their answers go straight back). Outbox sends check
the leadership first (:meth:`bot.router.Router.send_outbox`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot import leadership, metrics
from bot.adapters.base import Adapter, Delivery
from bot.config import Settings
from bot.delivery import Sender, grace_window
from bot.hub import CoreHub
from bot.leadership import Leadership
from bot.router import Router, connected
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
from handlers.services import Services
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
        self.services = Services.build(self.db, settings.core_config(), registries(), clock)
        self.core = Core(self.services)
        self.router = Router(self.services.chats)
        self.sender = Sender(
            self.db, self.services.clock, self.services.config, self.router,
            grace=grace_window(settings.reminder_grace),
        )
        self.hub = CoreHub(self.core, self.sender.send_now)
        self.scheduler = Scheduler(self.sender, self.services.clock)
        self.db.on_planned.append(self._outbox_changed)
        self._nudges: set[asyncio.Task[None]] = set()

    @property
    def adapters(self) -> dict[str, Adapter]:
        return self.router.adapters

    @property
    def leadership(self) -> Leadership | None:
        return self.router.leadership

    @leadership.setter
    def leadership(self, value: Leadership | None) -> None:
        self.router.leadership = value

    @property
    def role(self) -> str:
        return self.leadership.role if self.leadership is not None else "leader"

    def adapter_states(self) -> dict[str, bool]:
        """Each running adapter, and whether it is connected."""
        return {platform: connected(adapter) for platform, adapter in self.adapters.items()}

    def add(self, adapter: Adapter) -> None:
        self.router.add(adapter)

    async def start(self) -> None:
        await self.db.migrate()

    async def close(self) -> None:
        await self.db.close()

    async def dispatch(self, message: Message) -> None:
        """Answer a message: each reply goes out through the adapter of its platform (:class:`CoreHub`)."""
        await self.hub.dispatch(message)

    def _outbox_changed(self) -> None:
        """A commit planned something: the leader's sender wakes; a standby (answering a webhook
        update) nudges the leader, which sends it."""
        if self.leadership is None or self.leadership.is_leader():
            self.scheduler.wake()
        else:
            nudge = asyncio.create_task(self.leadership.nudge())
            self._nudges.add(nudge)
            nudge.add_done_callback(self._nudges.discard)

    async def deliver(self, reply: Reply) -> Delivery:
        """Send a reply to the asker now, waiting out transient failures (the sender's retry policy)."""
        return await self.sender.send_now(reply)

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

            adapters.append(ConsoleAdapter(self.hub))
        return adapters

    def _leads_only(self, adapter: Adapter) -> bool:
        """Adapters that fetch updates themselves: two instances doing it would both answer."""
        return adapter.platform == "matrix" or (
            adapter.platform == "telegram" and not self.settings.telegram_webhook_url
        )

    async def run(self) -> None:
        """Start every configured adapter in this process and run until one stops (or, with
        PostgreSQL, stand by while another process leads)."""
        self.leadership = leadership.for_database(self.settings.database_url)  # SQLite: refused here
        self.leadership.on_nudge = self.scheduler.wake
        health = None
        try:
            await self.start()
            metrics.count_adapter_errors()
            if self.settings.health_port is not None:
                from bot.health import HealthServer  # aiohttp's server: only when asked for

                health = HealthServer(self, self.settings.health_listen, self.settings.health_port)
                await health.start()
            everywhere = [a for a in self.configured_adapters() if not self._leads_only(a)]
            for adapter in everywhere:
                self.add(adapter)
            log.info("running: %s", ", ".join(a.platform for a in self.configured_adapters()))
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(a.run(self.hub)) for a in everywhere]
                tasks.append(group.create_task(self._lead(self.leadership)))
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in tasks:
                    task.cancel()
        finally:
            await self.scheduler.stop()
            await self.leadership.close()
            if health is not None:
                await health.stop()
            await self.close()

    async def _lead(self, leader: Leadership) -> None:
        """Each term as leader: fresh leader-only adapters and the sender, until the lead is lost
        (then stand by again) or an adapter stops (then return: the bot stops)."""
        while True:
            await leader.acquire()
            adapters = [a for a in self.configured_adapters() if self._leads_only(a)]
            for adapter in adapters:
                self.add(adapter)
            await self.scheduler.start()
            lost = asyncio.create_task(leader.lost())
            tasks = [asyncio.create_task(a.run(self.hub)) for a in adapters]
            try:
                await asyncio.wait([lost, *tasks], return_when=asyncio.FIRST_COMPLETED)
                if lost.done():  # a send still waiting could go out after a standby took over
                    self.router.cancel_outbox_sends()
            finally:
                self.sender.stopping = True
                for task in (lost, *tasks):
                    task.cancel()
                for task in (lost, *tasks):
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                await self.scheduler.stop()
            if lost.cancelled():  # an adapter stopped (or failed): so does the bot
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                return
            for adapter in adapters:  # a standby neither receives nor sends on them
                self.adapters.pop(adapter.platform, None)
            log.warning("no longer the leader: standing by")
