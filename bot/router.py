"""The router: the running adapters by platform, and each delivery through the right one.

It is what the sender (:mod:`bot.delivery`) sends through: one attempt per call, a chat that
refuses the bot marked inactive, and outbox sends only while this process leads."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot import metrics
from bot.adapters.base import Adapter, Delivery, Status
from handlers.directory import ChatDirectory
from handlers.message import Reply

if TYPE_CHECKING:
    from bot.leadership import Leadership

log = logging.getLogger(__name__)


class Router:
    def __init__(self, chats: ChatDirectory) -> None:
        self.chats = chats
        self.adapters: dict[str, Adapter] = {}
        self.leadership: Leadership | None = None
        """None: this process is the only one (it always leads)."""
        self._outbox_sends: set[asyncio.Task[Delivery]] = set()
        """Outbox sends under way (waiting in a rate limiter, retrying): cancelled when the lead is lost."""

    def add(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    def ready_platforms(self) -> list[str]:
        """Platforms whose adapter can send now (adapters that connect first expose ``started``)."""
        return [p for p, adapter in self.adapters.items() if connected(adapter)]

    def cancel_outbox_sends(self) -> None:
        """The lead was lost: a send still waiting could go out after a standby took over."""
        for send in self._outbox_sends:
            send.cancel()

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
            await self.chats.mark_inactive(reply.to)
        return delivery


def connected(adapter: object) -> bool:
    """An adapter that connects first (``started``) has; the others always are."""
    started = getattr(adapter, "started", None)
    return started is None or started.is_set()
