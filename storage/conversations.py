"""Wizard state per chat and user, kept in the database so a restart resumes mid-dialogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


async def get_conversation(
    session: AsyncSession, platform: str, chat_id: str, user_id: str
) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.platform == platform,
            Conversation.chat_id == chat_id,
            Conversation.user_id == user_id,
        )
    )


async def save_conversation(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    user_id: str,
    *,
    flow: str,
    step: str,
    data: dict[str, Any],
) -> Conversation:
    row = await get_conversation(session, platform, chat_id, user_id)
    if row is None:
        row = Conversation(platform=platform, chat_id=chat_id, user_id=user_id)
        session.add(row)
    row.flow, row.step, row.data = flow, step, dict(data)
    await session.flush()
    return row


async def end_conversation(session: AsyncSession, platform: str, chat_id: str, user_id: str) -> None:
    await session.execute(
        delete(Conversation).where(
            Conversation.platform == platform,
            Conversation.chat_id == chat_id,
            Conversation.user_id == user_id,
        )
    )
