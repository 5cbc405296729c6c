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
from storage.models import Chat, SeenUser


async def table_chats(session: AsyncSession, tables: Collection[str] | None) -> list[Recipient]:
    """The chats subscribed to any of ``tables`` (None: to any table)."""
    return [Recipient(platform, chat_id=chat_id) for platform, chat_id in await subscriptions.subscribed_chats(session, tables)]


async def person(session: AsyncSession, user_key: str, language: str | None = None) -> Recipient:
    platform, _sep, user_id = user_key.partition(":")
    return _addressed(platform, user_id, await chats.get_user(session, platform, user_id), language)


async def people(session: AsyncSession, user_keys: Collection[str]) -> dict[str, Recipient]:
    """:func:`person` for many people at once (one query per platform), by user key."""
    by_platform: dict[str, list[str]] = {}
    for key in user_keys:
        platform, _sep, user_id = key.partition(":")
        by_platform.setdefault(platform, []).append(user_id)
    found: dict[str, Recipient] = {}
    for platform, ids in by_platform.items():
        known = {user.user_id: user for user in await chats.get_users(session, platform, ids)}
        for user_id in ids:
            found[f"{platform}:{user_id}"] = _addressed(platform, user_id, known.get(user_id), None)
    return found


def _addressed(platform: str, user_id: str, user: SeenUser | None, language: str | None) -> Recipient:
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
