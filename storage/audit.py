"""The audit log: who did what, and when (registrations, decisions, role changes, erasures)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Integer, String, Text, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow

_LIKE_SPECIAL = re.compile(r"[\\%_]")

ERASED_ACTOR = "(erased)"
"""What replaces a person's platform id in the log once their data are erased."""


class AuditEntry(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, default="")


async def record(
    session: AsyncSession,
    actor: str,
    action: str,
    subject: str,
    details: str = "",
    *,
    at: datetime | None = None,
) -> None:
    """Log one action (``actor`` is a platform key such as ``telegram:123``)."""
    session.add(
        AuditEntry(at=at or utcnow(), actor=actor, action=action, subject=subject, details=details)
    )
    await session.flush()


async def recent(session: AsyncSession, limit: int = 20, contains: str | None = None) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first; ``contains`` filters on any field (case-insensitive)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if contains:
        pattern = "%" + _LIKE_SPECIAL.sub(r"\\\g<0>", contains.lower()) + "%"
        fields = (AuditEntry.actor, AuditEntry.action, AuditEntry.subject, AuditEntry.details)
        query = query.where(or_(*(func.lower(f).like(pattern, escape="\\") for f in fields)))
    return list(await session.scalars(query))


async def anonymise_actor(session: AsyncSession, actor: str) -> None:
    """Erase a person's platform id from the entries they made (the actions stay, unattributed)."""
    await session.execute(update(AuditEntry).where(AuditEntry.actor == actor).values(actor=ERASED_ACTOR))
