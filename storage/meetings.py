"""Meetings of the tables: one row per occurrence, in UTC with the zone they were set in.

A quarterly series is a chain of rows sharing ``series_id`` (the first occurrence's id);
each row keeps the series' first local wall time (``anchor``) so that occurrence *n* is
always ``anchor + 3n months`` in the series' zone, whatever DST did in between and
whichever occurrences were moved.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow

SCHEDULED, CANCELLED = "scheduled", "cancelled"
DEFAULT_OFFSETS: tuple[int, ...] = (7 * 86400, 86400, 3600)
"""Reminders before a meeting, in seconds: 7 days, 1 day and 1 hour."""


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("series_id", "occurrence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_code: Mapped[str] = mapped_column(String(8), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    offsets: Mapped[list[int]] = mapped_column(JSON)
    quarterly: Mapped[bool] = mapped_column(Boolean, default=False)
    series_id: Mapped[int | None] = mapped_column(Integer)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    anchor: Mapped[str | None] = mapped_column(String(19))
    """The series' first local wall time, ISO (``2027-02-15T15:00``); None for a single meeting."""
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped at every change: the calendar's SEQUENCE, and part of change announcements' keys."""
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


async def add_meeting(session: AsyncSession, meeting: Meeting) -> Meeting:
    """Store a new meeting; the first occurrence of a series becomes its own series."""
    session.add(meeting)
    await session.flush()
    if meeting.quarterly and meeting.series_id is None:
        meeting.series_id = meeting.id
        await session.flush()
    return meeting


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting | None:
    return await session.get(Meeting, meeting_id)


async def get_meetings(session: AsyncSession, meeting_ids: Collection[int]) -> dict[int, Meeting]:
    rows = await session.scalars(select(Meeting).where(Meeting.id.in_(list(meeting_ids))))
    return {meeting.id: meeting for meeting in rows}


async def occurrence(session: AsyncSession, series_id: int, number: int) -> Meeting | None:
    return await session.scalar(
        select(Meeting).where(Meeting.series_id == series_id, Meeting.occurrence == number)
    )


async def upcoming(
    session: AsyncSession,
    now: datetime,
    tables: Collection[str] | None = None,
    *,
    limit: int | None = None,
    with_cancelled: bool = False,
) -> list[Meeting]:
    """Meetings that have not started yet, soonest first (of ``tables``; None = every table)."""
    query = select(Meeting).where(Meeting.starts_at > now)
    if tables is not None:
        query = query.where(Meeting.table_code.in_(list(tables)))
    if not with_cancelled:
        query = query.where(Meeting.status == SCHEDULED)
    query = query.order_by(Meeting.starts_at, Meeting.id)
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def end_series(session: AsyncSession, series_id: int) -> None:
    """No occurrence of the series creates a next one any more."""
    for meeting in await session.scalars(select(Meeting).where(Meeting.series_id == series_id)):
        meeting.quarterly = False
    await session.flush()
