"""Messages to one person other than the asker, through the outbox.

Approval cards to secretaries, decisions to organisations' contacts, appointment notices: each
is planned with :func:`tell` inside the transaction of the change that causes it, so the change
and the message commit together (or neither does). The text is rendered now, in the reader's
language; :mod:`bot.delivery` sends it exactly once, retrying transient failures, and a message
that cannot be delivered (blocked, refused, not in time) is reported to ``owner`` (the person
whose action caused it; the administrators when nobody did) by :mod:`handlers.notices`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import recipients
from handlers.message import Button
from storage import deliveries

KIND = "message"
"""The notice kind of a message to one person."""
REPORT = "undelivered"
"""The notice kind telling the owner that a message could not be delivered."""


@dataclass(frozen=True)
class Planned:
    """One message to one person (see :func:`tell`)."""

    user_key: str
    html: str
    about: dict[str, Any]
    owner: str | None
    buttons: tuple[tuple[Button, ...], ...] = ()
    once: str | None = None


async def tell(
    session: AsyncSession,
    user_key: str,
    html: str,
    *,
    at: datetime,
    about: dict[str, Any],
    owner: str | None,
    buttons: tuple[tuple[Button, ...], ...] = (),
    once: str | None = None,
) -> bool:
    """Plan ``html`` (with ``buttons``) for ``user_key`` (``platform:id``), due ``at``.

    ``about`` says what it is, for the report if it cannot be delivered (``{"what": "request",
    "id": 12}``); the reader's name is added here. ``once`` names a message that must be planned
    only once (``pledge-request:2027-04:12``): False when it was planned already."""
    return bool(await tell_many(session, [Planned(user_key, html, about, owner, buttons, once)], at=at))


async def tell_many(session: AsyncSession, messages: list[Planned], *, at: datetime) -> int:
    """:func:`tell` for many messages in a few statements (a round's requests); how many were new."""
    people = await recipients.people(session, {message.user_key for message in messages})
    planned = [
        (
            {
                "key": f"{KIND}:{message.once or uuid.uuid4().hex}",
                "kind": KIND,
                "owner": message.owner,
                "payload": {
                    "html": message.html,
                    "buttons": [[[b.label, b.command] for b in row] for row in message.buttons],
                    "about": {**message.about, "to": message.user_key},
                },
            },
            people[message.user_key],
        )
        for message in messages
    ]
    inactive = await recipients.inactive(session, [recipient for _values, recipient in planned])
    return len(await deliveries.plan_each(session, planned, at, inactive=inactive))


def buttons_of(payload: dict[str, Any]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(label, command) for label, command in row) for row in payload.get("buttons", []))
