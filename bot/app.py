"""Wiring: the database, the core with every feature's commands, and the adapters.

``run`` takes part in the leadership of :mod:`bot.leadership`: adapters that receive on their
own initiative (Telegram long polling, Matrix sync) and the outbox sender run only while this
process leads, and are started afresh each time it becomes the leader; a Telegram webhook and
the console receive on every instance (their answers go straight back). Outbox sends check
the leadership first (:meth:`App.send_outbox`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot import leadership, metrics
from bot.adapters.base import Adapter, Delivery, Status
from bot.config import Settings
from bot.delivery import Sender, grace_window
from bot.leadership import Leadership
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
        self.db.on_planned.append(self._outbox_changed)
        self.leadership: Leadership | None = None
        self._outbox_sends: set[asyncio.Task[Delivery]] = set()
        """Outbox sends under way (waiting in a rate limiter, retrying): cancelled when the lead is lost."""
        self._nudges: set[asyncio.Task[None]] = set()

    @property
    def role(self) -> str:
        return self.leadership.role if self.leadership is not None else "leader"

    def adapter_states(self) -> dict[str, bool]:
        """Each running adapter, and whether it is connected."""
        return {platform: _connected(adapter) for platform, adapter in self.adapters.items()}

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
        started = time.perf_counter()
        replies = await self.core.handle(message)
        for reply in replies:
            await self.deliver(reply)
        metrics.ANSWER_SECONDS.observe(time.perf_counter() - started)
        intent = next((r.answer.intent for r in replies if r.answer), "command" if replies else "none")
        metrics.MESSAGES.labels(message.chat.platform, intent).inc()

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

    async def send_outbox(self, reply: Reply) -> Delivery:
        """One attempt at an outbox delivery: only while this process leads (no two senders)."""
        if self.leadership is not None and not await self.leadership.confirm():
            delivery = Delivery(Status.RETRY, error="not the leader any more")
        else:
            send = asyncio.create_task(self.send_once(reply))
            self._outbox_sends.add(send)
            send.add_done_callback(self._outbox_sends.discard)
            try:
                delivery = await send
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
                delivery = Delivery(Status.RETRY, error="stopped: no longer the leader")
        metrics.DELIVERIES.labels(reply.to.platform if reply.to else "", delivery.status.value).inc()
        return delivery

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
                tasks = [group.create_task(a.run(self)) for a in everywhere]
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
            tasks = [asyncio.create_task(a.run(self)) for a in adapters]
            try:
                await asyncio.wait([lost, *tasks], return_when=asyncio.FIRST_COMPLETED)
                if lost.done():  # a send still waiting could go out after a standby took over
                    for send in self._outbox_sends:
                        send.cancel()
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


def _connected(adapter: object) -> bool:
    started = getattr(adapter, "started", None)
    return started is None or started.is_set()
