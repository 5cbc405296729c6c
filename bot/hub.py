"""The hub adapters see (:class:`bot.adapters.base.Hub`), over the core and its services."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from bot import metrics
from bot.adapters.base import Delivery
from handlers.core import Core
from handlers.knowledge import fold
from handlers.message import Address, Message, Reply


class CoreHub:
    """Messages in, the core's replies out through ``deliver`` (the sender's :meth:`send_now`);
    and what adapters may ask besides. Without ``deliver`` (a console used as a test harness)
    only :meth:`answer` is of use."""

    def __init__(self, core: Core, deliver: Callable[[Reply], Awaitable[Delivery]] | None = None) -> None:
        self._core = core
        self._services = core.services
        self._deliver = deliver

    async def answer(self, message: Message) -> list[Reply]:
        """The core's replies to ``message``, not sent."""
        return await self._core.handle(message)

    async def dispatch(self, message: Message) -> None:
        """Answer a message: each reply goes out through the adapter of its platform.

        Messages to other people were planned in the outbox by the handler; the commit that
        planned them woke the sender (``Database.on_planned``), so nothing else is done here."""
        if self._deliver is None:
            raise RuntimeError("this hub cannot deliver replies")
        started = time.perf_counter()
        replies = await self.answer(message)
        for reply in replies:
            await self._deliver(reply)
        metrics.ANSWER_SECONDS.observe(time.perf_counter() - started)
        intent = next((r.answer.intent for r in replies if r.answer), "command" if replies else "none")
        metrics.MESSAGES.labels(message.chat.platform, intent).inc()

    def menu(self, language: str) -> list[tuple[str, str]]:
        return self._services.commands.menu(language)

    def is_command(self, name: str, *, or_close: bool = False) -> bool:
        folded = fold(name)
        commands = self._services.commands
        return commands.lookup(folded) is not None or (or_close and bool(commands.suggest(folded, "en")))

    def command_name(self, english: str, language: str) -> str | None:
        """A command's name in ``language``, by its English name."""
        command = self._services.commands.by_english_name(english)
        return command.name(language) if command else None

    async def chat_language(self, address: Address) -> str | None:
        return (await self._services.chats.chat_info(address)).language

    @property
    def default_language(self) -> str:
        return self._services.config.default_language

    async def in_dialogue(self, chat: Address, user_id: str) -> bool:
        """Whether ``user_id`` is in the middle of a dialogue in ``chat``."""
        return await self._services.dialogues.get((chat.platform, chat.chat_id or "", user_id)) is not None
