"""How fast the Telegram adapter goes: outgoing requests paced to Telegram's flood limits, and
updates of different chats answered concurrently, each chat's in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

FLOOD_LIMITS = {
    "overall_max_rate": 30,
    "overall_time_period": 1,
    "group_max_rate": 20,
    "group_time_period": 60,
}
"""Telegram's limits: 30 messages a second in all, 20 a minute in one group."""
RUNNING_UPDATES = 16
"""Updates of different chats answered at the same time."""


def pacing() -> AIORateLimiter:
    """Every request waits its turn under Telegram's flood limits (:data:`FLOOD_LIMITS`).

    PTB's ``AIORateLimiter`` is kept for its pacing alone: a broadcast to hundreds of chats goes
    out at the 30 messages a second Telegram allows (``bench/broadcast.py``) instead of running
    into 429s and waiting them out, and a group's 20 a minute are kept the same way. It retries
    nothing (``max_retries=0``): a 429 that still happens becomes ``Status.RETRY`` with Telegram's
    ``retry_after``, and the sender's one retry policy (:mod:`bot.retry`) takes it from there."""
    return AIORateLimiter(max_retries=0, **FLOOD_LIMITS)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Different chats are answered concurrently; one chat's updates strictly in order.

    A group held back by its 20-messages-a-minute limit then delays only itself, and a
    dialogue never sees its steps out of order. Updates waiting for their chat's turn take
    no ``running`` slot; the slots bound the database and HTTP connections in use."""

    def __init__(self, running: int = RUNNING_UPDATES, waiting: int = 4096) -> None:
        super().__init__(waiting)
        self._running = asyncio.Semaphore(running)
        self._chats: dict[int | None, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
