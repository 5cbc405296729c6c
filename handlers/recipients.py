"""Who receives a notice: the chats following tables, member organisations' contacts, one person.

A person is addressed through their private chat with the bot when it is known, so that a
contact whose private chat also follows a table gets one message, not two.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import chats, organisations, subscriptions
from storage.deliveries import Recipient
from storage.models import Chat


async def table_chats(session: AsyncSession, tables: Collection[str] | None) -> list[Recipient]:
    """The chats subscribed to any of ``tables`` (None: to any table)."""
    return [Recipient(platform, chat_id=chat_id) for platform, chat_id in await subscriptions.subscribed_chats(session, tables)]


async def person(session: AsyncSession, user_key: str, language: str | None = None) -> Recipient:
    platform, _sep, user_id = user_key.partition(":")
    user = await chats.get_user(session, platform, user_id)
    if user is not None and user.private_chat_id:
        return Recipient(platform, chat_id=user.private_chat_id, language=language or user.language)
    return Recipient(platform, user_id=user_id, language=language or (user.language if user else None))


async def member_contacts(session: AsyncSession, tables: Collection[str] | None) -> list[Recipient]:
    """The contact of each organisation approved in ``tables`` (None: in any table), in their language."""
    return [
        await person(session, contact.user_key, contact.language)
        for contact in await organisations.member_contacts(session, tables)
    ]


def unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    """One recipient per chat, with the first language known for it."""
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        known = seen.get(recipient.key)
        if known is None or (known.language is None and recipient.language is not None):
            seen[recipient.key] = recipient
    return list(seen.values())


async def inactive(session: AsyncSession, recipients: Iterable[Recipient]) -> set[str]:
    """The keys of recipients whose chat the platform told us we can no longer write to."""
    wanted = {(r.platform, r.chat_id): r.key for r in recipients if r.chat_id}
    if not wanted:
        return set()
    rows = await session.execute(select(Chat.platform, Chat.chat_id).where(Chat.active.is_(False)))
    return {wanted[(platform, chat_id)] for platform, chat_id in rows if (platform, chat_id) in wanted}
