"""Chats and the people the bot has seen."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chat, SeenUser, utcnow


async def get_chat(session: AsyncSession, platform: str, chat_id: str) -> Chat | None:
    return await session.scalar(
        select(Chat).where(Chat.platform == platform, Chat.chat_id == chat_id)
    )


async def ensure_chat(
    session: AsyncSession, platform: str, chat_id: str, *, private: bool, title: str | None = None
) -> Chat:
    """The chat's row, created on first contact; a chat that writes again is active again."""
    chat = await get_chat(session, platform, chat_id)
    if chat is None:
        chat = Chat(platform=platform, chat_id=chat_id, private=private, title=title, active=True)
        session.add(chat)
        await session.flush()
    else:
        chat.active = True
        if title and chat.title != title:
            chat.title = title
    return chat


async def update_chat(session: AsyncSession, platform: str, chat_id: str, **fields: object) -> Chat | None:
    """Change a chat's stored settings (language, timezone, active); None if the chat is unknown."""
    chat = await get_chat(session, platform, chat_id)
    if chat is not None:
        for name, value in fields.items():
            setattr(chat, name, value)
    return chat


async def record_user(
    session: AsyncSession,
    platform: str,
    user_id: str,
    *,
    username: str | None,
    name: str | None,
    language: str | None,
    private_chat_id: str | None,
    at: datetime | None = None,
) -> SeenUser:
    """Store what the platform says of a person now. A @username names one person at a time:
    sent by someone else now, it is taken from whoever had it; not sent, the person has none."""
    user = await get_user(session, platform, user_id)
    if user is None:
        user = SeenUser(platform=platform, user_id=user_id)
        session.add(user)
    current = username.lstrip("@").lower() if username else None
    if current is not None and current != user.username:
        await session.execute(
            update(SeenUser)
            .where(SeenUser.platform == platform, SeenUser.username == current, SeenUser.user_id != user_id)
            .values(username=None)
            .execution_options(synchronize_session=False)
        )
    user.username = current
    user.name = name or user.name
    user.language = language or user.language
    user.private_chat_id = private_chat_id or user.private_chat_id
    user.seen_at = at or utcnow()
    await session.flush()
    return user


async def get_user(session: AsyncSession, platform: str, user_id: str) -> SeenUser | None:
    return await session.scalar(
        select(SeenUser).where(SeenUser.platform == platform, SeenUser.user_id == user_id)
    )


async def get_users(session: AsyncSession, platform: str, user_ids: Collection[str]) -> list[SeenUser]:
    return list(
        await session.scalars(select(SeenUser).where(SeenUser.platform == platform, SeenUser.user_id.in_(list(user_ids))))
    )


async def find_user_by_username(session: AsyncSession, username: str) -> list[SeenUser]:
    """Users seen with this @username, on any platform (most recent first)."""
    name = username.lstrip("@").lower()
    rows = await session.scalars(
        select(SeenUser).where(func.lower(SeenUser.username) == name).order_by(SeenUser.seen_at.desc())
    )
    return list(rows)
