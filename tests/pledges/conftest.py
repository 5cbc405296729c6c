"""Pledge fixtures: members with pledges on record, a secretary, and what the outbox sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.app import App
from handlers.markup import plain
from handlers.message import Reply
from storage import organisations, pledges


async def add_pledges(app: App, name: str, titles: Iterable[str], *, at: datetime) -> int:
    """Pledges of the organisation named ``name`` (objectives 10 and 23); returns its id."""
    async with app.db.transaction() as session:
        (organisation,) = await organisations.same_name(session, name)
        for title in titles:
            await pledges.add_pledge(
                session, organisation.id, title=title, objectives=[10, 23], description="d", url=None, by=None, at=at
            )
        return organisation.id


def to(replies: Iterable[Reply], user: str) -> list[Reply]:
    """The replies addressed to console user ``user``."""
    return [r for r in replies if r.to is not None and (r.to.chat_id or r.to.user_id) == user]


def texts(replies: Iterable[Reply]) -> str:
    return "\n".join(plain(r.html) for r in replies)
