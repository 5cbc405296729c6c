"""Erasing a person: every row that names them is deleted or anonymised.

What the audit needs stays (that an action happened, and when), attributed to
:data:`storage.audit.ERASED_ACTOR`; the person's platform id, names, username, private chat
and the deliveries to it are gone."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import ERASED_ACTOR, AuditEntry, anonymise_actor
from storage.deliveries import DeliveryRecord, Notice
from storage.meetings import Meeting
from storage.models import Chat, Conversation, Role, SeenUser
from storage.organisations import Membership
from storage.subscriptions import Subscription


async def forget_person(session: AsyncSession, user_key: str) -> None:
    """Delete or anonymise every row naming the person ``platform:id``."""
    platform, _sep, user_id = user_key.partition(":")
    user = await session.scalar(select(SeenUser).where(SeenUser.platform == platform, SeenUser.user_id == user_id))
    chats = {user.private_chat_id} if user is not None and user.private_chat_id else set()
    chats |= set(
        await session.scalars(
            select(Conversation.chat_id).where(Conversation.platform == platform, Conversation.user_id == user_id)
        )
    )
    private = list(
        await session.scalars(
            select(Chat.chat_id).where(Chat.platform == platform, Chat.private, Chat.chat_id.in_(chats))
        )
    )
    await session.execute(delete(SeenUser).where(SeenUser.platform == platform, SeenUser.user_id == user_id))
    await session.execute(delete(Chat).where(Chat.platform == platform, Chat.chat_id.in_(private)))
    await session.execute(
        delete(Subscription).where(Subscription.platform == platform, Subscription.chat_id.in_(private))
    )
    await session.execute(
        delete(Conversation).where(
            Conversation.platform == platform,
            or_(Conversation.user_id == user_id, Conversation.chat_id.in_(private)),
        )
    )
    await session.execute(delete(Role).where(Role.user_key == user_key))
    await _anonymise_deliveries(session, platform, user_id, private)
    for column in (Role.granted_by, Subscription.created_by, Meeting.created_by, Notice.owner, Membership.decided_by):
        await session.execute(
            update(column.class_).where(column == user_key).values({column.key: ERASED_ACTOR})
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(Membership).where(Membership.requested_by == user_key).values(requested_by=None)
        .execution_options(synchronize_session=False)
    )
    await _anonymise_audit(session, user_key)
    await session.flush()


async def _anonymise_deliveries(session: AsyncSession, platform: str, user_id: str, private: list[str]) -> None:
    """Deliveries to the person's private chat keep their outcome (for the notice's report), not its address."""
    rows = await session.scalars(
        select(DeliveryRecord).where(
            DeliveryRecord.platform == platform,
            or_(DeliveryRecord.user_id == user_id, DeliveryRecord.chat_id.in_(private)),
        )
    )
    for row in rows:
        row.recipient, row.chat_id, row.user_id, row.error = f"{ERASED_ACTOR} {row.id}", None, None, ""


async def _anonymise_audit(session: AsyncSession, user_key: str) -> None:
    await anonymise_actor(session, user_key)
    pattern = f"%{user_key}%"
    rows = await session.scalars(
        select(AuditEntry).where(or_(AuditEntry.subject.like(pattern), AuditEntry.details.like(pattern)))
    )
    for row in rows:
        row.subject = row.subject.replace(user_key, ERASED_ACTOR)
        row.details = row.details.replace(user_key, ERASED_ACTOR)
