"""The platform-free half of the outbox: every kind of notice, and what the sender asks of them.

:mod:`bot.delivery` decides *when* and sends; the kinds decide *who* (:func:`expand`, when a
notice falls due, inside the transaction that records its deliveries) and *what*
(:func:`render`, per recipient, in the recipient's language and zone, right before sending).
Each feature declares its kinds (:class:`~handlers.notice_kind.NoticeKind`) in its own module;
:data:`KINDS` composes them:

- :mod:`handlers.meeting_notices`: a meeting's ``reminder``, ``change``, ``cancellation``, and
  ``recur`` (creates the next occurrence of a quarterly meeting);
- :mod:`handlers.pledge_notices`: the quarterly ``pledge`` reminder, and its round's
  ``pledge-chase`` and ``pledge-close``;
- :mod:`handlers.broadcast_notices`: a secretary's ``broadcast``, and its ``report``;
- :mod:`handlers.direct_notices`: a ``message`` to one person, and ``undelivered``, the report
  to its owner when it could not be delivered;
- here: ``missed``, what could not be sent in time, to whoever planned it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import broadcast_notices, direct_notices, meeting_notices, pledge_notices
from handlers.i18n import _, ngettext
from handlers.markup import bold, esc
from handlers.message import Button
from handlers.notice_kind import NoticeKind, OnMissed, by_name
from handlers.services import CoreConfig
from storage import deliveries
from storage.deliveries import Notice, Recipient
from storage.meetings import Meeting

MISSED = "missed"


def _render_missed(notice: Notice, _meeting: Meeting | None, zone: str, _now: datetime) -> str:
    lines = [
        "⚠️ " + bold(_("Not sent in time")),
        esc(_("I could not send these in time (I was offline or the platform refused), so I gave up on them:")),
    ]
    for item in notice.payload["items"]:
        count = item.get("count")
        tail = (
            _("nobody received it")
            if count is None
            else ngettext("{count} recipient did not receive it", "{count} recipients did not receive it", int(count)).format(count=count)
        )
        lines.append(f"• {esc(_describe(item, zone))}: {esc(tail)}")
    return "\n".join(lines)


def _describe(item: dict[str, Any], zone: str) -> str:
    kind = KINDS.get(str(item["kind"]))
    return kind.on_missed.describe(item, zone) if kind is not None and kind.on_missed is not None else by_name(item, zone)


def _by_name(*features: Iterable[NoticeKind]) -> dict[str, NoticeKind]:
    kinds: dict[str, NoticeKind] = {}
    for kind in (each for feature in features for each in feature):
        if kind.name in kinds:
            raise ValueError(f"notice kind {kind.name!r} declared twice")
        kinds[kind.name] = kind
    return kinds


KINDS: dict[str, NoticeKind] = _by_name(
    meeting_notices.NOTICE_KINDS,
    pledge_notices.NOTICE_KINDS,
    broadcast_notices.NOTICE_KINDS,
    direct_notices.NOTICE_KINDS,
    # a report that could not be sent is not itself reported (no loops)
    [NoticeKind(MISSED, direct_notices.owner_or_admins, _render_missed, on_missed=None)],
)


def always_done() -> list[str]:
    """Kinds that are internal work, done however late (never given up)."""
    return [name for name, kind in KINDS.items() if not kind.expires]


def reported() -> list[str]:
    """Kinds whose owner gets a report once every delivery is final."""
    return [name for name, kind in KINDS.items() if kind.on_finished is not None]


def _kind(notice: Notice) -> NoticeKind:
    kind = KINDS.get(notice.kind)
    if kind is None:
        raise ValueError(f"unknown notice kind {notice.kind!r}")
    return kind


async def prepare(session: AsyncSession, now: datetime, config: CoreConfig) -> None:
    """At start: whatever must always be planned (the next pledge reminder)."""
    for kind in KINDS.values():
        if kind.prepare is not None:
            await kind.prepare(session, now, config)


async def expand(session: AsyncSession, notice: Notice, now: datetime, config: CoreConfig) -> list[Recipient]:
    """The recipients of a due notice; also does the notice's own work (plan what follows)."""
    kind = _kind(notice)
    if kind.recipients is None:
        raise ValueError(f"notice kind {notice.kind!r} is planned with its deliveries, never expanded")
    return await kind.recipients(session, notice, now, config)


async def report_finished(session: AsyncSession, now: datetime) -> int:
    """Plan the report of each notice of a :func:`reported` kind whose deliveries are all final
    (once each: a broadcast's counts, a message to a person that ended undelivered)."""
    made = 0
    for notice in await deliveries.finished_unreported(session, reported()):
        if not await deliveries.mark_reported(session, notice.id):
            continue
        finished = _kind(notice).on_finished
        assert finished is not None
        report = await finished(session, notice, await deliveries.status_counts(session, notice.id))
        if report is None:
            continue
        await deliveries.ensure_notice(
            session, key=report.key, kind=report.kind, due_at=now, owner=notice.owner, payload=report.payload
        )
        made += 1
    return made


async def report_missed(session: AsyncSession, missed: list[tuple[Notice, int | None]], now: datetime) -> int:
    """One message per owner listing what was given up (called in the transaction that gave up)."""
    by_owner: dict[str | None, list[dict[str, Any]]] = {}
    for notice, count in missed:
        kind = KINDS.get(notice.kind)
        on_missed = kind.on_missed if kind is not None else OnMissed()
        if on_missed is None:
            continue
        item: dict[str, Any] = {"kind": notice.kind, "id": notice.id, "count": count}
        item.update(await on_missed.facts(session, notice))
        by_owner.setdefault(notice.owner, []).append(item)
    for owner, items in by_owner.items():
        await deliveries.ensure_notice(
            session, key=f"{MISSED}:{uuid.uuid4().hex}", kind=MISSED, due_at=now, owner=owner, payload={"items": items}
        )
    return len(by_owner)


def render(notice: Notice, meeting: Meeting | None, zone: str, now: datetime) -> str | None:
    """The message for one recipient, in the current locale and ``zone``; None when there is
    nothing to say any more (the meeting was cancelled or has started)."""
    kind = KINDS.get(notice.kind)
    return None if kind is None or kind.render is None else kind.render(notice, meeting, zone, now)


def buttons(notice: Notice) -> tuple[tuple[Button, ...], ...]:
    """The buttons under the message (a request's card)."""
    kind = KINDS.get(notice.kind)
    return () if kind is None or kind.buttons is None else kind.buttons(notice)
