"""The outbox: what is due to be said (notices) and to whom (deliveries). The source of truth.

A :class:`Notice` is one thing to say at one time, with a unique ``key`` naming what and which
occurrence (``reminder:12:20270215T2000Z:604800``, ``broadcast:7``, ``pledge:2027-04``), so
planning it twice is harmless. When it falls due it is *expanded*, in one transaction, into one
:class:`DeliveryRecord` per recipient, unique per (notice, recipient): the unique key of the brief,
(what, occurrence, chat). A delivery is sent at most once by the claim protocol of
:mod:`bot.delivery`: ``pending|retry -> sending`` (committed) -> send -> ``sent|retry|blocked|failed``
(committed right after the platform answers). Planning something to send (a notice, a draft
confirmed) marks the transaction (:func:`storage.db.mark_planned`): its commit wakes the sender.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import mark_planned
from storage.models import Base, utcnow

# notice statuses (DRAFT: a broadcast awaiting confirmation; EXPANDED: its deliveries exist)
DRAFT, PENDING, EXPANDED, CANCELLED, MISSED = "draft", "pending", "expanded", "cancelled", "missed"
# delivery statuses (PENDING, CANCELLED and MISSED as above)
SENDING, RETRY, SENT, BLOCKED, FAILED = "sending", "retry", "sent", "blocked", "failed"
OPEN: tuple[str, ...] = (PENDING, SENDING, RETRY)
"""Delivery statuses that may still end in a message."""
WAITING: tuple[str, ...] = (PENDING, RETRY)
"""Delivery statuses the sender may claim."""

class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    due_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    """A hard limit besides the grace window (a reminder is useless once the meeting started)."""
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    table_code: Mapped[str | None] = mapped_column(String(8))
    owner: Mapped[str | None] = mapped_column(String(255))
    """Who is told when it could not be sent in time (the meeting's creator, the broadcaster)."""
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reported: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryRecord(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "recipient"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(300))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class Recipient:
    """A chat (``chat_id``) or a person's private chat (``user_id`` alone), in a language if known."""

    platform: str
    chat_id: str | None = None
    user_id: str | None = None
    language: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:chat:{self.chat_id}" if self.chat_id else f"{self.platform}:user:{self.user_id}"


# notices -----------------------------------------------------------------------


async def ensure_notice(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    due_at: datetime | None,
    expires_at: datetime | None = None,
    meeting_id: int | None = None,
    table_code: str | None = None,
    owner: str | None = None,
    payload: dict[str, Any] | None = None,
    status: str = PENDING,
) -> Notice | None:
    """Plan a notice once: None if ``key`` is already planned or done; a cancelled one is planned again."""
    notice = await session.scalar(select(Notice).where(Notice.key == key))
    if notice is not None and notice.status != CANCELLED:
        return None
    if notice is None:
        notice = Notice(key=key, kind=kind)
        session.add(notice)
    notice.status, notice.due_at, notice.expires_at = status, due_at, expires_at
    notice.meeting_id, notice.table_code, notice.owner = meeting_id, table_code, owner
    notice.payload = dict(payload or {})
    await session.flush()
    if status != DRAFT:
        mark_planned(session)
    return notice


async def plan_each(
    session: AsyncSession,
    planned: list[tuple[dict[str, Any], Recipient]],
    due_at: datetime,
    *,
    inactive: Collection[str] = (),
) -> list[str]:
    """Many notices with one delivery each, already expanded, in a few statements: each
    ``(notice values, recipient)`` whose ``key`` is new. Returns the keys planned (the others
    were planned before)."""
    keys = [values["key"] for values, _recipient in planned]
    existing = set(await session.scalars(select(Notice.key).where(Notice.key.in_(keys)))) if keys else set()
    new = [(values, recipient) for values, recipient in planned if values["key"] not in existing]
    if not new:
        return []
    rows = [
        {"status": EXPANDED, "due_at": due_at, "reported": False, "created_at": utcnow(), **values}
        for values, _recipient in new
    ]
    inserted = await session.execute(insert(Notice).returning(Notice.id, Notice.key), rows)
    ids = {key: notice_id for notice_id, key in inserted}
    await session.execute(insert(DeliveryRecord), [
        {
            "notice_id": ids[values["key"]], "recipient": recipient.key, "platform": recipient.platform,
            "chat_id": recipient.chat_id, "user_id": recipient.user_id, "language": recipient.language,
            "status": BLOCKED if recipient.key in inactive else PENDING,
            "error": "chat inactive" if recipient.key in inactive else "", "attempts": 0, "next_attempt_at": due_at,
        }
        for values, recipient in new
    ])
    mark_planned(session)
    return [values["key"] for values, _recipient in new]


async def get_notice(session: AsyncSession, notice_id: int) -> Notice | None:
    return await session.get(Notice, notice_id)


async def get_notices(session: AsyncSession, notice_ids: Collection[int]) -> dict[int, Notice]:
    rows = await session.scalars(select(Notice).where(Notice.id.in_(list(notice_ids))).order_by(Notice.id))
    return {notice.id: notice for notice in rows}


async def cancel_meeting_notices(
    session: AsyncSession, meeting_id: int, kinds: Collection[str], *, with_deliveries: bool
) -> None:
    """Withdraw the meeting's notices of ``kinds`` not due yet, and with ``with_deliveries`` (it moved
    or was cancelled) also the deliveries of due ones not sent yet.

    Deliveries already in flight (``sending``) cannot be recalled and are left alone."""
    notice_ids = select(Notice.id).where(Notice.meeting_id == meeting_id, Notice.kind.in_(list(kinds)))
    await session.execute(
        update(Notice)
        .where(Notice.id.in_(notice_ids), Notice.status == PENDING)
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if not with_deliveries:
        return
    await session.execute(
        update(DeliveryRecord)
        .where(DeliveryRecord.notice_id.in_(notice_ids), DeliveryRecord.status.in_(WAITING))
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )


async def due_notices(session: AsyncSession, now: datetime, limit: int = 100) -> list[Notice]:
    rows = await session.scalars(
        select(Notice)
        .where(Notice.status == PENDING, Notice.due_at <= now)
        .order_by(Notice.due_at, Notice.id)
        .limit(limit)
    )
    return list(rows)


async def set_status_if(session: AsyncSession, notice_id: int, expected: str, status: str, **values: Any) -> bool:
    """``expected -> status`` in one conditional UPDATE: False if the notice was not ``expected``
    (someone else expanded it, a broadcast was confirmed twice)."""
    result = await session.execute(
        update(Notice)
        .where(Notice.id == notice_id, Notice.status == expected)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    if status == PENDING and result.rowcount == 1:
        mark_planned(session)
    return result.rowcount == 1


async def add_deliveries(
    session: AsyncSession,
    notice_id: int,
    recipients: Iterable[Recipient],
    due_at: datetime,
    *,
    inactive: Collection[str] = (),
) -> int:
    """One delivery per new recipient (keys in ``inactive`` are recorded as blocked, not sent)."""
    existing = set(
        await session.scalars(select(DeliveryRecord.recipient).where(DeliveryRecord.notice_id == notice_id))
    )
    rows: list[dict[str, Any]] = []
    for recipient in recipients:
        if recipient.key in existing:
            continue
        existing.add(recipient.key)
        blocked = recipient.key in inactive
        rows.append(
            {
                "notice_id": notice_id,
                "recipient": recipient.key,
                "platform": recipient.platform,
                "chat_id": recipient.chat_id,
                "user_id": recipient.user_id,
                "language": recipient.language,
                "status": BLOCKED if blocked else PENDING,
                "error": "chat inactive" if blocked else "",
                "attempts": 0,
                "next_attempt_at": due_at,
            }
        )
    if rows:
        await session.execute(insert(DeliveryRecord), rows)
    return len(rows)


def _expired(now: datetime, grace: timedelta, keep: Collection[str]) -> Any:
    return and_(
        Notice.kind.not_in(list(keep)),
        or_(Notice.due_at <= now - grace, and_(Notice.expires_at.is_not(None), Notice.expires_at <= now)),
    )


async def expire(
    session: AsyncSession, now: datetime, grace: timedelta, *, keep: Collection[str] = ()
) -> list[tuple[Notice, int | None]]:
    """Give up on what can no longer be sent in time: notices not expanded and deliveries not sent
    by their expiry (``due + grace``, or ``expires_at``), except notices of the kinds in ``keep``
    (work done however late). Returns each notice with the number of its missed deliveries
    (None: missed before it had recipients)."""
    missed: list[tuple[Notice, int | None]] = []
    for notice in await session.scalars(select(Notice).where(Notice.status == PENDING, _expired(now, grace, keep))):
        notice.status = MISSED
        missed.append((notice, None))
    counts = await session.execute(
        select(DeliveryRecord.notice_id, func.count())
        .join(Notice, Notice.id == DeliveryRecord.notice_id)
        .where(DeliveryRecord.status.in_(WAITING), _expired(now, grace, keep))
        .group_by(DeliveryRecord.notice_id)
    )
    by_notice = {notice_id: count for notice_id, count in counts}
    if by_notice:
        await session.execute(
            update(DeliveryRecord)
            .where(DeliveryRecord.notice_id.in_(list(by_notice)), DeliveryRecord.status.in_(WAITING))
            .values(status=MISSED, error="not sent in time")
            .execution_options(synchronize_session=False)
        )
        for notice in await session.scalars(select(Notice).where(Notice.id.in_(list(by_notice)))):
            missed.append((notice, by_notice[notice.id]))
    await session.flush()
    return missed


# deliveries --------------------------------------------------------------------


async def requeue_in_flight(session: AsyncSession, now: datetime) -> list[DeliveryRecord]:
    """After a crash: deliveries left ``sending`` go back to ``retry`` (see bot.delivery's policy)."""
    rows = list(await session.scalars(select(DeliveryRecord).where(DeliveryRecord.status == SENDING)))
    for row in rows:
        row.status, row.next_attempt_at, row.error = RETRY, now, "in flight at a restart"
    await session.flush()
    return rows


async def due_deliveries(
    session: AsyncSession, now: datetime, platforms: Collection[str], limit: int
) -> list[DeliveryRecord]:
    rows = await session.scalars(
        select(DeliveryRecord)
        .where(
            DeliveryRecord.status.in_(WAITING),
            DeliveryRecord.next_attempt_at <= now,
            DeliveryRecord.platform.in_(list(platforms)),
        )
        .order_by(DeliveryRecord.next_attempt_at, DeliveryRecord.id)
        .limit(limit)
    )
    return list(rows)


async def claim(session: AsyncSession, delivery_id: int, now: datetime) -> bool:
    """``pending|retry -> sending``; False if it is not waiting any more (sent, cancelled, taken)."""
    result = await session.execute(
        update(DeliveryRecord)
        .where(DeliveryRecord.id == delivery_id, DeliveryRecord.status.in_(WAITING))
        .values(status=SENDING, claimed_at=now, attempts=DeliveryRecord.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def finish(session: AsyncSession, delivery_id: int, status: str, **values: Any) -> None:
    """Record what the platform answered for a claimed delivery."""
    await session.execute(
        update(DeliveryRecord)
        .where(DeliveryRecord.id == delivery_id)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )


async def next_notice_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.min(Notice.due_at)).where(Notice.status == PENDING))


async def next_delivery_due(session: AsyncSession, platform: str) -> datetime | None:
    return await session.scalar(
        select(func.min(DeliveryRecord.next_attempt_at)).where(
            DeliveryRecord.status.in_(WAITING), DeliveryRecord.platform == platform
        )
    )


async def finished_unreported(session: AsyncSession, kinds: Collection[str]) -> list[Notice]:
    """Expanded notices of ``kinds`` whose every delivery is final and that were not reported yet."""
    open_delivery = exists().where(DeliveryRecord.notice_id == Notice.id, DeliveryRecord.status.in_(OPEN))
    rows = await session.scalars(
        select(Notice).where(
            Notice.kind.in_(list(kinds)), Notice.status == EXPANDED, Notice.reported.is_(False), ~open_delivery
        )
    )
    return list(rows)


async def mark_reported(session: AsyncSession, notice_id: int) -> bool:
    """False if it was reported already (one conditional UPDATE, so a report is made once)."""
    result = await session.execute(
        update(Notice)
        .where(Notice.id == notice_id, Notice.reported.is_(False))
        .values(reported=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def status_counts(session: AsyncSession, notice_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(DeliveryRecord.status, func.count())
        .where(DeliveryRecord.notice_id == notice_id)
        .group_by(DeliveryRecord.status)
    )
    return {status: count for status, count in rows}


async def notices_of(session: AsyncSession, kind: str, *, status: str | None = None) -> list[Notice]:
    query = select(Notice).where(Notice.kind == kind)
    if status is not None:
        query = query.where(Notice.status == status)
    return list(await session.scalars(query.order_by(Notice.id)))
