"""The pledge notices: the quarterly ``pledge`` reminder (see :mod:`handlers.pledges`), to every
following chat and the contacts of organisations without pledges on record, which opens the
month's reporting round; and the round's ``pledge-chase`` follow-ups and ``pledge-close``
summary (see :mod:`handlers.pledge_rounds`), which send messages to one person and nothing
themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import pledge_rounds
from handlers.basics import months
from handlers.services import CoreConfig
from handlers.i18n import _
from handlers.notice_kind import NoticeKind, OnMissed
from handlers.pledges import plan_next_pledge, pledge_schedule, pledge_text
from storage.deliveries import Notice, Recipient
from storage.meetings import Meeting


async def open_round(session: AsyncSession, notice: Notice, now: datetime, config: CoreConfig) -> list[Recipient]:
    """Plan the next reminder, open the round (its requests go to organisations with pledges),
    and remind everyone else."""
    await plan_next_pledge(session, now, config.default_timezone)
    notice.payload = {**notice.payload, "link": (await pledge_schedule(session)).link}
    await pledge_rounds.start_round(
        session, now, config.default_timezone, config.default_language, tables=None, by=None
    )
    return await pledge_rounds.reminder_audience(session)


async def plan_reminder(session: AsyncSession, now: datetime, config: CoreConfig) -> None:
    await plan_next_pledge(session, now, config.default_timezone)


def render_reminder(notice: Notice, _meeting: Meeting | None, _zone: str, _now: datetime) -> str:
    return pledge_text(notice.payload["year"], notice.payload["month"], notice.payload["link"])


async def reminder_facts(_session: AsyncSession, notice: Notice) -> dict[str, Any]:
    return {"month": notice.payload.get("month")}


def describe_missed(item: dict[str, Any], _zone: str) -> str:
    return _("the pledge-reporting reminder of {month}").format(month=months([int(item["month"] or 1)]))


async def chase(session: AsyncSession, notice: Notice, now: datetime, config: CoreConfig) -> list[Recipient]:
    await pledge_rounds.chase(session, notice, now, config.default_language)
    return []


async def close(session: AsyncSession, notice: Notice, now: datetime, config: CoreConfig) -> list[Recipient]:
    await pledge_rounds.close(session, notice, now, config.default_language)
    return []


NOTICE_KINDS = (
    NoticeKind(
        "pledge", open_round, render_reminder, prepare=plan_reminder,
        on_missed=OnMissed(describe=describe_missed, facts=reminder_facts),
    ),
    NoticeKind(pledge_rounds.CHASE, chase, expires=False),
    NoticeKind(pledge_rounds.CLOSE, close, expires=False),
)
