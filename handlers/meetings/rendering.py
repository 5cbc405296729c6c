"""What organisers and members read about meetings: details, reminders, who is told, next ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import recipients
from handlers.agenda import meetings_list
from handlers.basics import command_text, meeting_cadence
from handlers.context import Context
from handlers.dates import format_offset_list, short_offset, to_wall
from handlers.i18n import _, ngettext
from handlers.markup import bold, esc
from handlers.message import Answer, Reply
from storage.meetings import Meeting


def secretary_details(meeting: Meeting) -> str:
    """What only the organisers need: the meeting's own zone, its reminders, its recurrence."""
    parts = [
        _("set for {time} {zone}").format(time=to_wall(meeting.starts_at, meeting.timezone).strftime("%Y-%m-%d %H:%M"), zone=meeting.timezone),
        _("reminders: {offsets}").format(offsets=" ".join(short_offset(o) for o in sorted(meeting.offsets, reverse=True)) or "—"),
    ]
    if meeting.quarterly:
        parts.append(_("repeats every quarter"))
    return esc(" · ".join(parts))


def reminders_line(ctx: Context, meeting: Meeting, chats: int) -> str:
    """Which reminders will go out, and to how many chats (or how to get a chat subscribed)."""
    now = ctx.clock.now()
    ahead = [o for o in meeting.offsets if meeting.starts_at - timedelta(seconds=o) > now]
    if not meeting.offsets:
        lines = [_("No reminders.")]
    elif ahead:
        lines = [_("Reminders: {offsets} before.").format(offsets=format_offset_list(ahead))]
    else:
        lines = [_("No reminder is due before the meeting any more.")]
    if chats == 0:
        lines.append(_("No chat is subscribed to {table} yet: in the table's group, send {command}.").format(
            table=meeting.table_code, command=command_text(ctx, "subscribe", meeting.table_code)
        ))
    elif meeting.offsets:
        lines.append(ngettext(
            "They go to {count} subscribed chat.", "They go to {count} subscribed chats.", chats
        ).format(count=chats))
    return esc("\n".join(lines))


async def who_is_told(ctx: Context, session: AsyncSession, meeting: Meeting) -> str:
    """Whom an announced change reaches: the table's subscribed chats, or no one yet."""
    count = len(await recipients.table_chats(session, [meeting.table_code]))
    if count:
        return ngettext(
            "I am telling the {count} subscribed chat.", "I am telling the {count} subscribed chats.", count
        ).format(count=count)
    return _("No chat is subscribed to {table}, so no one else is told ({command} subscribes one).").format(
        table=meeting.table_code, command=command_text(ctx, "subscribe", meeting.table_code)
    )


def next_reply(ctx: Context, tables: list[str] | None, found: list[Meeting], *, cadence: bool = False) -> Reply:
    scope = ", ".join(tables) if tables else _("all tables")
    if found:
        text = bold(_("Next meetings ({tables})").format(tables=scope)) + "\n\n" + meetings_list(found, ctx.timezone)
    else:
        text = esc(_("No meeting of {tables} is planned yet.").format(tables=scope))
    if cadence or not found:
        text += "\n\n" + esc(meeting_cadence())
    return ctx.reply(text, answer=Answer("meetings", (), tuple(tables or ())))
