"""The console adapter: a private chat on the terminal, and the test harness of the core."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TextIO

from bot.adapters.base import Delivery, Hub, Status
from handlers.i18n import _, use_locale
from handlers.markup import plain
from handlers.message import Address, Attachment, Message, Reply, User

PLATFORM = "console"


class ConsoleHub(Hub, Protocol):
    """The hub, and what the console adds: answers without sending them (the test harness),
    and its greeting (command names, the default language, a dialogue left open)."""

    async def answer(self, message: Message) -> list[Reply]: ...

    def command_name(self, english: str, language: str) -> str | None: ...

    @property
    def default_language(self) -> str: ...

    async def in_dialogue(self, chat: Address, user_id: str) -> bool: ...


FILE_PREFIX = ":file "


class ConsoleAdapter:
    """Private chats on the terminal (``console:<user>``); sent files are saved under ``files_dir``."""

    platform = PLATFORM

    def __init__(
        self,
        hub: ConsoleHub,
        *,
        user_id: str = "local",
        files_dir: Path = Path("data/files"),
        output: TextIO | None = None,
        outbox: Callable[[], Awaitable[object]] | None = None,
        interactive: bool | None = None,
    ) -> None:
        """``outbox`` (the test harness): a pass of the sender, run after each :meth:`ask`."""
        self.hub = hub
        self.user_id = user_id
        self.files_dir = files_dir
        self.output = output or sys.stdout
        self.outbox = outbox
        self._recordings: list[list[Reply]] = []
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        """On a terminal: a greeting, a note when a dialogue was left open, a prompt after each answer."""

    def message(self, text: str, user_id: str | None = None, language_code: str | None = None) -> Message:
        """A line typed by ``user_id``; ``:file PATH`` sends that file, as a document sent to the bot."""
        user = user_id or self.user_id
        attachment = None
        if text.startswith(FILE_PREFIX):
            path = Path(text.removeprefix(FILE_PREFIX).strip())
            content = path.read_bytes() if path.is_file() else b""
            attachment, text = Attachment(path.name, content, ""), ""
        return Message(
            Address(PLATFORM, chat_id=user),
            User(PLATFORM, user, name=user, language_code=language_code),
            text,
            private=True,
            attachment=attachment,
        )

    async def ask(self, text: str, user_id: str | None = None) -> list[Reply]:
        """Every reply the core makes to one line; with ``outbox``, followed by what the outbox
        then sent to console users (the messages the line planned for other people, and what
        other lines asked at the same time planned)."""
        return await self.exchange(self.message(text, user_id))

    async def exchange(self, message: Message) -> list[Reply]:
        """:meth:`ask` for a message built by the caller (another name, a group, a role)."""
        replies = await self.hub.answer(message)
        if self.outbox is None:
            return replies
        recording: list[Reply] = []
        self._recordings.append(recording)
        try:
            await self.outbox()
        finally:
            self._recordings.remove(recording)
        return [*replies, *recording]

    async def send(self, reply: Reply) -> Delivery:
        print(self.render(reply), file=self.output, flush=True)
        for recording in self._recordings:
            recording.append(reply)
        return Delivery(Status.SENT)

    def render(self, reply: Reply) -> str:
        """A reply as shown on the terminal: plain text, buttons, saved file, recipient."""
        lines = [plain(reply.html)]
        for row in reply.buttons:
            lines.append("  ".join(f"[{b.label} → {b.command}]" for b in row))
        for saved, mark in ((reply.attachment, "📎"), (reply.image, "🖼")):
            if saved is not None:
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path = self.files_dir / saved.filename
                path.write_bytes(saved.content)
                lines.append(f"{mark} {path}")
        to = reply.to
        if to is not None and (to.chat_id or to.user_id) != self.user_id:
            lines[0] = f"→ {to.chat_id or to.user_id}: {lines[0]}"
        return "\n".join(lines)

    async def run(self, hub: Hub) -> None:
        """Interactive with a prompt and line editing on a terminal; otherwise line by line to EOF.

        The next line is read (and the prompt shown) only once the previous one is answered."""
        if self.interactive:
            for line in await self.opening():
                print(line, file=self.output, flush=True)
        ready = threading.Event()
        lines = _read_lines(_prompt_reader() if self.interactive else _pipe_reader, ready)
        ready.set()
        while (line := await lines.get()) is not None:
            try:
                await hub.dispatch(self.message(line.rstrip("\n")))
            finally:
                ready.set()

    async def opening(self) -> list[str]:
        """The greeting, and a note when the last session stopped inside a dialogue."""
        address = Address(PLATFORM, chat_id=self.user_id)
        lang = await self.hub.chat_language(address) or self.hub.default_language
        with use_locale(lang):
            lines = [
                _("gcmbot here. Ask me a question or send {help}; Ctrl-D leaves.").format(
                    help=self._command("help", lang)
                )
            ]
            if await self.hub.in_dialogue(address, self.user_id):
                lines.append(
                    _(
                        "We were in the middle of a dialogue when I stopped: your next line continues "
                        "it, {cancel} stops it."
                    ).format(cancel=self._command("cancel", lang))
                )
        return lines

    def _command(self, english: str, lang: str) -> str:
        name = self.hub.command_name(english, lang)
        return f"/{name}" if name else ""


def _read_lines(read: Callable[[], str | None], ready: threading.Event) -> asyncio.Queue[str | None]:
    """Lines read by a daemon thread, so a blocked read never holds up stopping the bot; each
    read waits for ``ready`` (the previous line answered)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        while True:
            ready.wait()
            ready.clear()
            line = read()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    return queue


def _pipe_reader() -> str | None:
    return sys.stdin.readline() or None


def _prompt_reader() -> Callable[[], str | None]:
    import readline  # noqa: F401  (line editing and history for input())

    def read() -> str | None:
        try:
            return input("> ")
        except EOFError:
            return None

    return read
