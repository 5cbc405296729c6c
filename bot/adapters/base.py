"""The adapter port: what every platform adapter offers the rest of the bot."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from handlers.message import Address, Message, Reply


class Status(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    """A transient failure (rate limit, network, 5xx): try again after ``retry_after``."""
    BLOCKED = "blocked"
    """The platform refuses for good (bot blocked, kicked, room forbidden)."""
    FAILED = "failed"
    """A permanent failure of this message (bad request)."""


@dataclass(frozen=True)
class Delivery:
    status: Status
    message_id: str | None = None
    retry_after: float = 0.0
    error: str = ""


class Hub(Protocol):
    """What adapters see of the bot: they hand it received messages (the core's answers are
    routed from there), and ask it the little a platform shows besides replies."""

    async def dispatch(self, message: Message) -> None: ...

    def menu(self, language: str) -> list[tuple[str, str]]:
        """The public commands (name, description) in ``language``, for a platform's command menu."""
        ...

    def is_command(self, name: str, *, or_close: bool = False) -> bool:
        """``name`` (as typed after ``/`` or ``!``) is one of our commands; ``or_close``: or
        near enough to one to be a typo we can correct."""
        ...

    async def chat_language(self, address: Address) -> str | None:
        """The language chosen for a chat (None: not chosen)."""
        ...


class Adapter(Protocol):
    platform: str

    async def run(self, hub: Hub) -> None:
        """Receive messages and hand them to ``hub`` until cancelled (or, console, end of input)."""

    async def send(self, reply: Reply) -> Delivery:
        """Send one reply whose ``to`` is set; never raises for platform errors."""

