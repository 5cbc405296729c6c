"""Meetings as members read them: title, when (in the chat's zone and, when it differs, the
meeting's own), link; and a table's next meetings."""

from __future__ import annotations

from datetime import datetime

from handlers.dates import format_meeting_when
from handlers.i18n import _
from handlers.markup import bold, esc, link
from storage import readcache
from storage.db import Database
from storage.meetings import Meeting

TABLE_AGENDA = 3
"""How many of a table's next meetings its card shows."""


def meeting_title(meeting: Meeting) -> str:
    return meeting.title or _("Meeting of {table}").format(table=meeting.table_code)


def meeting_lines(meeting: Meeting, zone: str, *, with_id: bool = False) -> list[str]:
    """A meeting as shown to members: title and table, when (in ``zone``), link."""
    head = f"{bold(meeting_title(meeting))} · {esc(meeting.table_code)}"
    if with_id:
        head = f"#{meeting.id} {head}"
    if meeting.cancelled:
        head += " — " + bold(_("CANCELLED"))
    lines = [head, esc(format_meeting_when(meeting.starts_at, zone, meeting.timezone))]
    if meeting.url:
        lines.append(link(meeting.url, meeting.url))
    return lines


def meetings_list(meetings: list[Meeting], zone: str, *, with_id: bool = False) -> str:
    return "\n\n".join("\n".join(meeting_lines(m, zone, with_id=with_id)) for m in meetings)


async def table_agenda(db: Database, table: str, now: datetime, zone: str) -> str:
    """The table's next scheduled meetings (markup), or "" when none is planned (a cached read)."""
    found = await readcache.upcoming(db, now, [table], limit=TABLE_AGENDA)
    if not found:
        return ""
    return bold(_("Next meetings")) + "\n" + meetings_list(found, zone)
