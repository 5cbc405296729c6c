"""The adapter port: what every platform adapter offers the rest of the bot."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from handlers.message import Message, Reply

if TYPE_CHECKING:
    from handlers.core import Core


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
    """What adapters hand received messages to: the core's answers are routed from there."""

    core: Core
    """For what a platform shows besides replies (Telegram's command menu, chat languages)."""

    async def dispatch(self, message: Message) -> None: ...


class Adapter(Protocol):
    platform: str

    async def run(self, hub: Hub) -> None:
        """Receive messages and hand them to ``hub`` until cancelled (or, console, end of input)."""

    async def send(self, reply: Reply) -> Delivery:
        """Send one reply whose ``to`` is set; never raises for platform errors."""

