"""What a kind of notice declares: to whom it goes, what it says, what its owner is told when
it is given up or done. Each feature declares its kinds in its own module (``NOTICE_KINDS``);
:mod:`handlers.notices` composes them and :mod:`bot.delivery` runs them, so adding a kind
adds a declaration, not a branch in the outbox.

This module imports no feature: features import it, and :mod:`handlers.notices` imports them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.message import Button
from storage.deliveries import Notice, Recipient
from storage.meetings import Meeting

if TYPE_CHECKING:
    from handlers.services import CoreConfig

Recipients: TypeAlias = Callable[[AsyncSession, Notice, datetime, "CoreConfig"], Awaitable[list[Recipient]]]
"""Who a due notice goes to, called in the transaction that records its deliveries; it also does
the notice's own work (plan what follows). A kind that only does work returns ``[]``."""
Render: TypeAlias = Callable[[Notice, Meeting | None, str, datetime], str | None]
"""The message for one recipient, in the current locale and the given zone, at the given time;
None when there is nothing to say any more (the meeting was cancelled or has started)."""
Buttons: TypeAlias = Callable[[Notice], tuple[tuple[Button, ...], ...]]
Prepare: TypeAlias = Callable[[AsyncSession, datetime, "CoreConfig"], Awaitable[None]]
Facts: TypeAlias = Callable[[AsyncSession, Notice], Awaitable[dict[str, Any]]]
Describe: TypeAlias = Callable[[dict[str, Any], str], str]


@dataclass(frozen=True)
class Report:
    """A notice planned for the owner of another one (``key`` unique, ``payload`` for its kind)."""

    key: str
    kind: str
    payload: dict[str, Any]


Finished: TypeAlias = Callable[[AsyncSession, Notice, dict[str, int]], Awaitable["Report | None"]]
"""Once every delivery of a notice is final: the report to plan from its status counts (None: none)."""


async def no_facts(_session: AsyncSession, _notice: Notice) -> dict[str, Any]:
    return {}


def by_name(item: dict[str, Any], _zone: str) -> str:
    """A notice named by its kind (work nobody reads about, such as ``recur``)."""
    return str(item["kind"])


@dataclass(frozen=True)
class OnMissed:
    """How a notice given up (not sent in time) is listed in the report to its owner.

    ``facts`` are read when it is given up (the meeting may be gone by the time the report is
    rendered); ``describe`` renders them, with ``kind`` and ``id``, in the reader's language and zone."""

    describe: Describe = by_name
    facts: Facts = no_facts


@dataclass(frozen=True)
class NoticeKind:
    name: str
    recipients: Recipients | None
    """None: planned with its deliveries, never expanded (a message to one person)."""
    render: Render | None = None
    """None: the kind sends nothing itself (it plans other notices or messages)."""
    buttons: Buttons | None = None
    on_missed: OnMissed | None = OnMissed()
    """None: not listed when given up (a report is not itself reported, no loops)."""
    on_finished: Finished | None = None
    """The report to the owner once every delivery is final (a broadcast's counts)."""
    prepare: Prepare | None = None
    """At start: what this kind must always have planned (the next pledge reminder)."""
    expires: bool = True
    """False: internal work, done however late (never given up)."""
