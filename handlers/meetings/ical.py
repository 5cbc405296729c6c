"""The meetings as an iCalendar file, for members' own calendars."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from handlers.agenda import meeting_title
from handlers.dates import later, local
from handlers.i18n import _
from storage.meetings import Meeting

MEETING_LENGTH = timedelta(hours=2)
"""Calendars need an end; meetings are not given one, and the tables' meetings last about two hours."""

QUARTERLY_RULE = {"freq": "monthly", "interval": 3}
"""A quarterly series in a calendar: the same wall time every three months, in the meeting's zone."""


def calendar_file(meetings: list[Meeting], now: datetime) -> bytes:
    """An iCalendar file: one VEVENT per meeting in its own zone (with VTIMEZONEs), cancelled ones
    marked so that calendars that imported them before remove them."""
    calendar = Calendar()
    calendar.add("prodid", "-//gcmbot//meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("GCM civil society mechanism: meetings"))
    for meeting in meetings:
        start = local(meeting.starts_at, meeting.timezone)
        event = Event()
        event.add("uid", f"meeting-{meeting.id}@gcmbot")
        event.add("dtstamp", now)
        event.add("dtstart", start)
        event.add("dtend", later(start, MEETING_LENGTH))
        event.add("summary", f"{meeting.table_code}: {meeting_title(meeting)}")
        event.add("sequence", meeting.revision)
        event.add("status", "CANCELLED" if meeting.cancelled else "CONFIRMED")
        if meeting.quarterly and not meeting.cancelled:
            event.add("rrule", QUARTERLY_RULE)
        if meeting.url:
            event.add("url", meeting.url)
            event.add("description", meeting.url)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
