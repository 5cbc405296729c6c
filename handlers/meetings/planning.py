"""Planning a meeting's notices: written in the transaction that saves, moves or cancels it.

Planning writes the notices the outbox will send: one reminder per offset still ahead, and,
for a quarterly series, the notice that creates the next occurrence when this one starts.
Moving or cancelling withdraws what was not sent yet and plans an announcement to the same chats.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dates import format_when, local_datetime, to_wall, within_window
from handlers.errors import UserError
from handlers.i18n import _
from handlers.markup import esc
from storage import deliveries
from storage.meetings import Meeting

REMINDER_KINDS = ("reminder",)


def reminder_key(meeting: Meeting, offset: int) -> str:
    """What and which occurrence: a reminder ``offset`` seconds before this start of this meeting."""
    return f"reminder:{meeting.id}:{meeting.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}:{offset}"


async def plan_meeting(session: AsyncSession, meeting: Meeting, now: datetime) -> None:
    """Plan the meeting's reminders still ahead (and, for a series, its next occurrence)."""
    for offset in meeting.offsets:
        due = meeting.starts_at - timedelta(seconds=offset)
        if due <= now:
            continue
        await deliveries.ensure_notice(
            session,
            key=reminder_key(meeting, offset),
            kind="reminder",
            due_at=due,
            expires_at=meeting.starts_at,
            meeting_id=meeting.id,
            table_code=meeting.table_code,
            owner=meeting.created_by,
            payload={"offset": offset},
        )
    if meeting.quarterly:
        await deliveries.ensure_notice(
            session,
            key=f"recur:{meeting.id}",
            kind="recur",
            due_at=meeting.starts_at,
            meeting_id=meeting.id,
            table_code=meeting.table_code,
            owner=meeting.created_by,
        )


async def announce(session: AsyncSession, meeting: Meeting, kind: str, now: datetime, **payload: str) -> None:
    """Tell the table's chats about a change (``change``) or a cancellation (``cancellation``)."""
    await deliveries.ensure_notice(
        session,
        key=f"{kind}:{meeting.id}:{meeting.revision}",
        kind=kind,
        due_at=now,
        expires_at=meeting.starts_at,
        meeting_id=meeting.id,
        table_code=meeting.table_code,
        owner=meeting.created_by,
        payload=dict(payload),
    )


def starts_at(day: date, at: time, zone: str, now: datetime) -> datetime:
    """The instant a meeting typed as day, time and zone starts; refused if past or too far ahead."""
    within_window(day, to_wall(now, zone).date())
    start = local_datetime(day, at, zone).astimezone(UTC)
    if start <= now:
        when = format_when(start, zone)
        raise UserError(esc(_("{when} is in the past. Give a future date.").format(when=when[:1].upper() + when[1:])))
    return start


def audit_details(meeting: Meeting) -> str:
    wall = to_wall(meeting.starts_at, meeting.timezone).isoformat(timespec="minutes")
    return f"{meeting.table_code} {wall} {meeting.timezone} {meeting.title or ''}".strip()
