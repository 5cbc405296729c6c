"""Which chats receive which table's reminders and announcements."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "table_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    table_code: Mapped[str] = mapped_column(String(8), index=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def subscribe(session: AsyncSession, platform: str, chat_id: str, table: str, by: str) -> bool:
    """False if the chat already was subscribed to the table."""
    if table in await chat_tables(session, platform, chat_id):
        return False
    session.add(Subscription(platform=platform, chat_id=chat_id, table_code=table, created_by=by))
    await session.flush()
    return True


async def unsubscribe(session: AsyncSession, platform: str, chat_id: str, table: str) -> bool:
    result = await session.execute(
        delete(Subscription).where(
            Subscription.platform == platform, Subscription.chat_id == chat_id, Subscription.table_code == table
        )
    )
    return bool(result.rowcount)


async def chat_tables(session: AsyncSession, platform: str, chat_id: str) -> list[str]:
    rows = await session.scalars(
        select(Subscription.table_code)
        .where(Subscription.platform == platform, Subscription.chat_id == chat_id)
        .order_by(Subscription.table_code)
    )
    return list(rows)


async def subscribed_chats(session: AsyncSession, tables: Collection[str] | None = None) -> list[tuple[str, str]]:
    """``(platform, chat_id)`` of every chat subscribed to any of ``tables`` (None = any table), once each."""
    query = select(Subscription.platform, Subscription.chat_id).distinct()
    if tables is not None:
        query = query.where(Subscription.table_code.in_(list(tables)))
    rows = await session.execute(query.order_by(Subscription.platform, Subscription.chat_id))
    return [(platform, chat_id) for platform, chat_id in rows]
