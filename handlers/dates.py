"""Dates, times, zones and durations: read as members type them, shown in a chat's language and zone.

Everything stored is an aware UTC instant plus the IANA zone it was given in; local wall
times exist only while parsing input and while rendering, so daylight-saving changes are
always resolved by :mod:`zoneinfo` for the exact instant concerned.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_month_names, get_timezone_name

from handlers.errors import UserError
from handlers.i18n import _, current_locale, ngettext
from handlers.knowledge import fold
from handlers.markup import esc

_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_DMY_DATE = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{2}|[0-9]{4})$")
_TIME = re.compile(r"^([0-9]{1,2})(?:[:h.]([0-9]{2}))?h?$")
_DURATION_PART = re.compile(r"([0-9]{1,6})\s*(semanas?|sem|weeks?|w|dias?|days?|d|horas?|hours?|hrs?|h|minutos?|minutes?|mins?|m)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
_UTC_NAMES = {"utc", "gmt", "z", "etc/utc", "etc/gmt"}
YEARS_AHEAD = 5
"""How far ahead a meeting may be planned: further is a typing mistake (and year 9999 breaks calendars)."""


# parsing -----------------------------------------------------------------------


def parse_date(text: str) -> date:
    """``2027-02-15``, ``15/02/2027``, ``15-2-27`` or ``15.02.2027`` (day first, as in Latin America)."""
    iso = _ISO_DATE.match(text)
    dmy = _DMY_DATE.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif dmy:
        day, month, year = (int(g) for g in dmy.groups())
        year += 2000 if year < 100 else 0
    else:
        raise UserError(esc(_("“{text}” is not a date I understand. Write it as 2027-02-15 or 15/02/2027.").format(
            text=text[:40]
        )))
    if year < 1:
        raise UserError(esc(_("“{text}” is not a date: there is no year {year}.").format(text=text, year=year)))
    if not 1 <= month <= 12:
        raise UserError(esc(_("“{text}” is not a date: there is no month {month}.").format(text=text, month=month)))
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise UserError(esc(_("“{text}” is not a date: {month} {year} has {days} days.").format(
            text=text, month=month_name(month), year=year, days=days
        )))
    return date(year, month, day)


def within_window(day: date, today: date) -> None:
    """Refuse a day more than :data:`YEARS_AHEAD` years after ``today`` (a :class:`UserError`)."""
    if day > today + timedelta(days=round(365.25 * YEARS_AHEAD)):
        raise UserError(esc(_("That is too far ahead: I plan meetings up to {years} years from today.").format(
            years=YEARS_AHEAD
        )))


def later(instant: datetime, span: timedelta) -> datetime:
    """``instant + span``, or the last representable instant (a stored meeting in year 9999)."""
    try:
        return instant + span
    except OverflowError:
        return instant.replace(month=12, day=31, hour=23, minute=59, second=59)


def parse_time(text: str) -> time:
    """24-hour times: ``15:00``, ``9:30``, ``15h``, ``15h30``, ``15.30``."""
    match = _TIME.match(text.lower())
    hour, minute = (int(match.group(1)), int(match.group(2) or 0)) if match else (99, 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise UserError(esc(_("“{text}” is not a time I understand. Use the 24-hour clock, e.g. 15:00.").format(
            text=text[:20]
        )))
    return time(hour, minute)


def looks_like_zone(text: str) -> bool:
    return "/" in text or text.lower() in _UTC_NAMES


def duration(text: str) -> timedelta | None:
    """``7d``, ``1h``, ``30m``, ``2w``, ``1d12h``, ``3 días``; None if it is not a duration."""
    folded = fold(text).replace(" ", "")
    position, seconds = 0, 0
    for match in _DURATION_PART.finditer(folded):
        if match.start() != position:
            return None
        unit = "w" if match.group(2).startswith("sem") else match.group(2)[0]
        seconds += int(match.group(1)) * _UNIT_SECONDS[unit]
        position = match.end()
    if position == 0 or position != len(folded):
        return None
    return timedelta(seconds=seconds)


def parse_duration(text: str) -> timedelta:
    found = duration(text)
    if found is None or found <= timedelta(0):
        raise UserError(esc(_("“{text}” is not a duration I understand. Examples: 7d, 1d, 2h, 30m.").format(
            text=text[:20]
        )))
    return found


def local_datetime(day: date, at: time, zone: str) -> datetime:
    """The aware instant of a wall-clock time; a time skipped by a daylight-saving change is refused.

    An ambiguous time (clocks set back) is the first of the two, as calendars do."""
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=tz)
    if instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise UserError(esc(_("{time} does not exist on {date} in {zone}: the clocks jump forward that night. Choose another time.").format(
            time=at.strftime("%H:%M"), date=day.isoformat(), zone=zone
        )))
    return instant


def add_months(wall: datetime, months: int, zone: str) -> datetime:
    """The same wall-clock time ``months`` later in ``zone`` (the 31st becomes the month's last day).

    A wall time skipped by a daylight-saving change moves forward with the clocks."""
    index = wall.month - 1 + months
    year, month = wall.year + index // 12, index % 12 + 1
    day = min(wall.day, calendar.monthrange(year, month)[1])
    return instant_of(wall.replace(year=year, month=month, day=day), zone)


def instant_of(wall: datetime, zone: str) -> datetime:
    """The aware instant of a naive wall time in ``zone``; a skipped time moves forward with the clocks."""
    tz = ZoneInfo(zone)
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def to_wall(instant: datetime, zone: str) -> datetime:
    """The naive wall-clock time of ``instant`` in ``zone``."""
    return local(instant, zone).replace(tzinfo=None)


def local(instant: datetime, zone: str) -> datetime:
    """``instant`` in ``zone``; in UTC when that zone's wall time would be past year 9999
    (a meeting stored before dates were bounded must not break every list it is in)."""
    try:
        return instant.astimezone(ZoneInfo(zone))
    except OverflowError:
        return instant.astimezone(UTC)


# rendering ---------------------------------------------------------------------


def month_name(month: int) -> str:
    return get_month_names("wide", locale=current_locale())[month]


def zone_name(zone: str) -> str:
    """``hora de Colombia`` / ``Colombia Time``; plain ``UTC`` for the zones without a place."""
    if zone == "UTC" or zone.startswith("Etc/"):
        return zone.removeprefix("Etc/")
    return get_timezone_name(ZoneInfo(zone), "long", locale=current_locale())


def format_when(instant: datetime, zone: str) -> str:
    """``martes, 16 de febrero de 2027, 15:00 (hora de Colombia)`` in the current locale."""
    wall = local(instant, zone)
    locale = current_locale()
    return _("{date}, {time} ({zone})").format(
        date=format_date(wall, "full", locale=locale),
        time=format_time(wall, "short", locale=locale),
        zone=zone_name(zone),
    )


def format_meeting_when(instant: datetime, zone: str, own: str) -> str:
    """``format_when`` in the reader's ``zone``, followed by the meeting's ``own`` zone when it is
    another one (a meeting set in Lima read in Bogotá: same hour, but the organiser typed Lima)."""
    here = format_when(instant, zone)
    if own == zone:
        return here
    if local(instant, own).date() == local(instant, zone).date():
        there = _("{time} ({zone})").format(time=format_clock(instant, own), zone=zone_name(own))
    else:
        there = format_when(instant, own)
    return _("{when}; set as {there}").format(when=here, there=there)


def format_clock(instant: datetime, zone: str) -> str:
    """``15:00`` / ``3:00 PM``: the time of day of ``instant`` in ``zone``."""
    return format_time(local(instant, zone), "short", locale=current_locale())


def format_day(instant: datetime, zone: str) -> str:
    return format_date(local(instant, zone), "long", locale=current_locale())


def format_span(span: timedelta) -> str:
    """``7 days``, ``1 day and 2 hours``, ``45 minutes``: the two largest units, rounded sensibly."""
    seconds = max(0, round(span.total_seconds()))
    step = 3600 if seconds >= 86400 else 300 if seconds >= 7200 else 60
    seconds = max(step, round(seconds / step) * step) if seconds else 0
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        ngettext("{n} day", "{n} days", days).format(n=days) if days else "",
        ngettext("{n} hour", "{n} hours", hours).format(n=hours) if hours else "",
        ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes) if minutes and not days else "",
    ]
    parts = [p for p in parts if p][:2]
    if not parts:
        return ngettext("{n} minute", "{n} minutes", 0).format(n=0)
    return parts[0] if len(parts) == 1 else _("{first} and {second}").format(first=parts[0], second=parts[1])


def format_offset_list(offsets: list[int]) -> str:
    """Reminder offsets (seconds before the meeting) as ``7 days, 1 day, 1 hour``."""
    return ", ".join(format_span(timedelta(seconds=s)) for s in sorted(offsets, reverse=True))


def short_offset(seconds: int) -> str:
    """``7d``, ``1d12h``, ``30m``: the form members type, for buttons and lists."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text or "0m"
