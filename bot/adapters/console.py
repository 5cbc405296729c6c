"""The console adapter: a private chat on the terminal, and the test harness of the core."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.adapters.base import Delivery, Hub, Status
from handlers.core import Core
from handlers.markup import plain
from handlers.message import Address, Message, Reply, User

PLATFORM = "console"


class ConsoleAdapter:
    """Private chats on the terminal (``console:<user>``); sent files are saved under ``files_dir``."""

    platform = PLATFORM

    def __init__(
        self,
        core: Core,
        *,
        user_id: str = "local",
        files_dir: Path = Path("data/files"),
        output: TextIO | None = None,
    ) -> None:
        self.core = core
        self.user_id = user_id
        self.files_dir = files_dir
        self.output = output or sys.stdout

    def message(self, text: str, user_id: str | None = None, language_code: str | None = None) -> Message:
        user = user_id or self.user_id
        return Message(
            Address(PLATFORM, chat_id=user),
            User(PLATFORM, user, name=user, language_code=language_code),
            text,
            private=True,
        )

    async def ask(self, text: str, user_id: str | None = None) -> list[Reply]:
        """Every reply the core makes to one line (including those addressed to other people)."""
        return await self.core.handle(self.message(text, user_id))

    async def send(self, reply: Reply) -> Delivery:
        print(self.render(reply), file=self.output, flush=True)
        return Delivery(Status.SENT)

    def render(self, reply: Reply) -> str:
        """A reply as shown on the terminal: plain text, buttons, saved file, recipient."""
        lines = [plain(reply.html)]
        for row in reply.buttons:
            lines.append("  ".join(f"[{b.label} → {b.command}]" for b in row))
        if reply.attachment is not None:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / reply.attachment.filename
            path.write_bytes(reply.attachment.content)
            lines.append(f"📎 {path}")
        to = reply.to
        if to is not None and (to.chat_id or to.user_id) != self.user_id:
            lines[0] = f"→ {to.chat_id or to.user_id}: {lines[0]}"
        return "\n".join(lines)

    async def run(self, hub: Hub) -> None:
        """Interactive with a prompt and line editing on a terminal; otherwise line by line to EOF."""
        interactive = sys.stdin.isatty()
        read = _prompt_reader() if interactive else sys.stdin.readline
        while True:
            line = await asyncio.to_thread(read)
            if line is None or (not interactive and line == ""):
                return
            await hub.dispatch(self.message(line.rstrip("\n")))


def _prompt_reader() -> Callable[[], str | None]:
    import readline  # noqa: F401  (line editing and history for input())

    def read() -> str | None:
        try:
            return input("> ")
        except EOFError:
            return None

    return read
