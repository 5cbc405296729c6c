"""A meeting's notices (planned by :mod:`handlers.meetings`): its ``reminder``\\ s, the
``change`` and ``cancellation`` announcements, each to the chats following its table, and
``recur``, which sends nothing and creates the next occurrence of a quarterly meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import recipients
from handlers.agenda import meeting_title
from handlers.services import CoreConfig
from handlers.dates import add_months, format_meeting_when, format_span, format_when
from handlers.i18n import _
from handlers.markup import bold, esc, link
from handlers.meetings import plan_meeting
from handlers.notice_kind import NoticeKind, OnMissed, by_name
from storage import audit
from storage.deliveries import Notice, Recipient
from storage.meetings import SCHEDULED, Meeting, add_meeting, get_meeting, occurrence

SYSTEM = "gcmbot"
"""Who the audit log names for what the bot does on its own."""


async def table_chats(session: AsyncSession, notice: Notice, _now: datetime, _config: CoreConfig) -> list[Recipient]:
    return await recipients.table_chats(session, [notice.table_code or ""])


def render(notice: Notice, meeting: Meeting | None, zone: str, now: datetime) -> str | None:
    if meeting is None:
        return None
    if notice.kind == "cancellation":
        head = "❌ " + bold(_("Cancelled: {title} ({table})").format(title=meeting_title(meeting), table=meeting.table_code))
        body = esc(_("The meeting of {when} will not take place.").format(when=format_when(meeting.starts_at, zone)))
        return f"{head}\n{body}"
    if meeting.cancelled or meeting.starts_at <= now:
        return None
    where = [esc(format_meeting_when(meeting.starts_at, zone, meeting.timezone))]
    if meeting.url:
        where.append(link(meeting.url, meeting.url))
    title = bold(meeting_title(meeting))
    if notice.kind == "change":
        old = datetime.fromisoformat(notice.payload["old"])
        head = "📅 " + _("Change: {title} ({table}) has moved.").format(title=title, table=esc(meeting.table_code))
        before = esc(_("Before: {when}").format(when=format_when(old, zone)))
        now_line = esc(_("Now: {when}").format(when=format_when(meeting.starts_at, zone)))
        return "\n".join([head, before, now_line, *where[1:]])
    head = "⏰ " + _("Reminder: {title} ({table}) starts in {span}.").format(
        title=title, table=esc(meeting.table_code), span=esc(format_span(meeting.starts_at - now))
    )
    return "\n".join([head, *where])


async def meeting_facts(session: AsyncSession, notice: Notice) -> dict[str, Any]:
    """The meeting as it was when the notice was given up (it may be gone when the report is read)."""
    meeting = await get_meeting(session, notice.meeting_id) if notice.meeting_id else None
    facts: dict[str, Any] = {"offset": notice.payload.get("offset")}
    if meeting is not None:
        facts.update(title=meeting_title(meeting), table=meeting.table_code, starts_at=meeting.starts_at.isoformat())
    return facts


def describe_missed(item: dict[str, Any], zone: str) -> str:
    if "title" not in item:
        return by_name(item, zone)
    when = format_when(datetime.fromisoformat(str(item["starts_at"])), zone)
    values = {"title": item["title"], "table": item["table"], "when": when}
    if item["kind"] == "reminder":
        span = format_span(timedelta(seconds=int(item["offset"] or 0)))
        return _("the reminder {span} before “{title}” ({table}, {when})").format(span=span, **values)
    if item["kind"] == "change":
        return _("the announcement that “{title}” ({table}) moved to {when}").format(**values)
    return _("the announcement that “{title}” ({table}, {when}) is cancelled").format(**values)


async def recur(session: AsyncSession, notice: Notice, now: datetime, _config: CoreConfig) -> list[Recipient]:
    await next_occurrence(session, notice, now)
    return []


async def next_occurrence(session: AsyncSession, notice: Notice, now: datetime) -> Meeting | None:
    """Create the series' next occurrence: ``anchor + 3n months``, same wall time, in its zone."""
    meeting = await get_meeting(session, notice.meeting_id or 0)
    if meeting is None or not meeting.quarterly or meeting.series_id is None or meeting.anchor is None:
        return None
    anchor = datetime.fromisoformat(meeting.anchor)
    number = meeting.occurrence + 1
    while (start := add_months(anchor, 3 * number, meeting.timezone)) <= now:
        number += 1
    if await occurrence(session, meeting.series_id, number) is not None:
        return None
    following = await add_meeting(
        session,
        Meeting(
            table_code=meeting.table_code, title=meeting.title, url=meeting.url,
            starts_at=start.astimezone(UTC), timezone=meeting.timezone, offsets=list(meeting.offsets),
            quarterly=True, series_id=meeting.series_id, occurrence=number, anchor=meeting.anchor,
            status=SCHEDULED, revision=0, created_by=meeting.created_by, created_at=now, updated_at=now,
        ),
    )
    await plan_meeting(session, following, now)
    await audit.record(
        session, SYSTEM, "meeting.recur", f"meeting:{following.id}", f"series {meeting.series_id} #{number}", at=now
    )
    return following


_MISSED = OnMissed(describe=describe_missed, facts=meeting_facts)

NOTICE_KINDS = (
    NoticeKind("reminder", table_chats, render, on_missed=_MISSED),
    NoticeKind("change", table_chats, render, on_missed=_MISSED),
    NoticeKind("cancellation", table_chats, render, on_missed=_MISSED),
    NoticeKind("recur", recur, expires=False),
)
