"""Meetings of the tables: secretaries plan, move and cancel them; everyone sees the next ones.

Planning a meeting writes, in the same transaction, the notices the outbox will send: one
reminder per offset still ahead, and, for a quarterly series, the notice that creates the
next occurrence when this one starts. Moving or cancelling withdraws what was not sent yet
and plans an announcement to the same chats.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.basics import command_text, meeting_cadence
from handlers.context import Context
from handlers.dates import (
    duration,
    format_offset_list,
    format_when,
    later,
    local,
    local_datetime,
    looks_like_zone,
    parse_date,
    parse_duration,
    parse_time,
    short_offset,
    to_wall,
    within_window,
)
from handlers import recipients
from handlers.agenda import meeting_lines, meeting_title, meetings_list
from handlers.errors import UserError
from handlers.zones import parse_zone
from handlers.i18n import N_, _, ngettext
from handlers.knowledge import fold, load_knowledge, parse_table_code
from handlers.markup import bold, esc
from handlers.message import Answer, Attachment, Reply
from handlers.numbers import parse_number
from handlers.registry import Registry
from handlers.vocabulary import accepted_words, shown_word
from storage import audit, deliveries, organisations, subscriptions
from storage.meetings import (
    CANCELLED,
    DEFAULT_OFFSETS,
    SCHEDULED,
    Meeting,
    add_meeting,
    end_series,
    get_meeting,
    upcoming,
)

registry = Registry()

MAX_OFFSETS = 6
MAX_OFFSET = timedelta(days=60)
MAX_TITLE = 200
MAX_URL = 500
LIST_LIMIT = 10
CALENDAR_LIMIT = 50
MEETING_LENGTH = timedelta(hours=2)
"""Calendars need an end; meetings are not given one, and the tables' meetings last about two hours."""

QUARTERLY_RULE = {"freq": "monthly", "interval": 3}
"""A quarterly series in a calendar: the same wall time every three months, in the meeting's zone."""

REMINDER_KINDS = ("reminder",)

_SUBCOMMANDS = {
    "add": "add", "new": "add", "nueva": "add", "nuevo": "add", "agregar": "add", "crear": "add", "anadir": "add",
    "list": "list", "lista": "list", "listar": "list", "ver": "list",
    "move": "move", "mover": "move", "cambiar": "move", "reprogramar": "move", "reschedule": "move",
    "cancel": "cancel", "cancelar": "cancel", "anular": "cancel",
    "remind": "remind", "recordar": "remind", "reminders": "remind", "recordatorios": "remind", "avisos": "remind",
}  # fmt: skip
_SUBCOMMANDS |= {w: key for w, key in accepted_words("meeting").items() if key in set(_SUBCOMMANDS.values())}
_QUARTERLY_FLAGS = {"quarterly", "trimestral"} | {w for w, key in accepted_words("meeting").items() if key == "quarterly"}
_REMIND_FLAGS = {"remind", "recordar", "reminders", "recordatorios"} | {
    w for w, key in accepted_words("meeting").items() if key == "remind"
}
_SERIES_WORDS = {"all", "series", "serie", "todas", "todo"} | {w for w, key in accepted_words("meeting").items() if key == "all"}
_NONE_WORDS = {"none", "ninguno", "ninguna", "no"}
_FLAG = re.compile(r"^(?:--|—|–)([\w]+)(?:=(.*))?$")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_URL = re.compile(r"^https?://\S+$", re.I)


# what a meeting looks like -----------------------------------------------------


def secretary_details(meeting: Meeting) -> str:
    """What only the organisers need: the meeting's own zone, its reminders, its recurrence."""
    parts = [
        _("set for {time} {zone}").format(time=to_wall(meeting.starts_at, meeting.timezone).strftime("%Y-%m-%d %H:%M"), zone=meeting.timezone),
        _("reminders: {offsets}").format(offsets=" ".join(short_offset(o) for o in sorted(meeting.offsets, reverse=True)) or "—"),
    ]
    if meeting.quarterly:
        parts.append(_("repeats every quarter"))
    return esc(" · ".join(parts))


# planning ----------------------------------------------------------------------


def reminder_key(meeting: Meeting, offset: int) -> str:
    """What and which occurrence: a reminder ``offset`` seconds before this start of this meeting."""
    return f"reminder:{meeting.id}:{meeting.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}:{offset}"


async def plan_meeting(session: AsyncSession, meeting: Meeting, now: datetime) -> None:
    """Plan the meeting's reminders still ahead (and, for a series, its next occurrence)."""
    for offset in meeting.offsets:
        due = meeting.starts_at - timedelta(seconds=offset)
        if due <= now:
            continue
        await deliveries.ensure_notice(
            session,
            key=reminder_key(meeting, offset),
            kind="reminder",
            due_at=due,
            expires_at=meeting.starts_at,
            meeting_id=meeting.id,
            table_code=meeting.table_code,
            owner=meeting.created_by,
            payload={"offset": offset},
        )
    if meeting.quarterly:
        await deliveries.ensure_notice(
            session,
            key=f"recur:{meeting.id}",
            kind="recur",
            due_at=meeting.starts_at,
            meeting_id=meeting.id,
            table_code=meeting.table_code,
            owner=meeting.created_by,
        )


async def announce(session: AsyncSession, meeting: Meeting, kind: str, now: datetime, **payload: str) -> None:
    """Tell the table's chats about a change (``change``) or a cancellation (``cancellation``)."""
    await deliveries.ensure_notice(
        session,
        key=f"{kind}:{meeting.id}:{meeting.revision}",
        kind=kind,
        due_at=now,
        expires_at=meeting.starts_at,
        meeting_id=meeting.id,
        table_code=meeting.table_code,
        owner=meeting.created_by,
        payload=dict(payload),
    )


async def _who_is_told(ctx: Context, session: AsyncSession, meeting: Meeting) -> str:
    """Whom an announced change reaches: the table's subscribed chats, or no one yet."""
    count = len(await recipients.table_chats(session, [meeting.table_code]))
    if count:
        return ngettext(
            "I am telling the {count} subscribed chat.", "I am telling the {count} subscribed chats.", count
        ).format(count=count)
    return _("No chat is subscribed to {table}, so no one else is told ({command} subscribes one).").format(
        table=meeting.table_code, command=command_text(ctx, "subscribe", meeting.table_code)
    )


# reading what secretaries type -------------------------------------------------


@dataclass
class Options:
    """Flags anywhere in the arguments: ``--quarterly``, ``--remind 3d,2h`` (and Spanish)."""

    quarterly: bool = False
    offsets: list[int] | None = None
    words: list[str] = field(default_factory=list)


def split_args(text: str) -> list[str]:
    """Words, with "double-quoted" phrases (typographic quotes too) as one; apostrophes are text."""
    lexer = shlex.shlex(text.translate(_QUOTES), posix=True)
    lexer.quotes, lexer.escape, lexer.whitespace_split, lexer.commenters = '"', "", True, ""
    try:
        return list(lexer)
    except ValueError:
        raise UserError(esc(_("A quotation mark is not closed. Put the title between quotes: \"Quarterly meeting\"."))) from None


def read_options(tokens: list[str]) -> Options:
    options = Options()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        match = _FLAG.match(token)
        index += 1
        if match is None:
            options.words.append(token)
            continue
        name, value = fold(match.group(1)), match.group(2)
        if name in _QUARTERLY_FLAGS:
            options.quarterly = True
        elif name in _REMIND_FLAGS:
            values = [value] if value is not None else []
            while value is None and index < len(tokens) and _is_offset_list(tokens[index]):
                values.append(tokens[index])
                index += 1
            options.offsets = parse_offsets(values)
        else:
            raise UserError(esc(_("I don't know the option {option}. The options are --quarterly and --remind 3d,1h.").format(
                option=token
            )))
    return options


def word(name: str) -> str:
    """A sub-command word in the language being rendered."""
    return shown_word("meeting", name)


def _is_offset_list(token: str) -> bool:
    return fold(token) in _NONE_WORDS or all(duration(part) for part in token.split(",") if part)


def parse_offsets(values: list[str]) -> list[int]:
    """``["3d", "2h"]``, ``["3d,2h"]`` or ``["none"]`` -> seconds before the meeting, largest first."""
    parts = [p for value in values for p in value.split(",") if p.strip()]
    if len(parts) == 1 and fold(parts[0]) in _NONE_WORDS:
        return []
    if not parts:
        raise UserError(esc(_("Which reminders? For example: 7d 1d 1h (days, hours or minutes before).")))
    offsets = sorted({int(parse_duration(p).total_seconds()) for p in parts}, reverse=True)
    if len(offsets) > MAX_OFFSETS or offsets[0] > MAX_OFFSET.total_seconds():
        raise UserError(esc(_("At most {count} reminders, each at most {days} days before the meeting.").format(
            count=MAX_OFFSETS, days=MAX_OFFSET.days
        )))
    return offsets


@dataclass(frozen=True)
class When:
    starts_at: datetime
    zone: str


def read_when(ctx: Context, words: list[str], default_zone: str) -> tuple[When, list[str]]:
    """Date, time and optional zone from the start of ``words``; the rest is returned."""
    if len(words) < 2:
        raise UserError(esc(_("Give the date and the time, e.g. 2027-02-15 15:00 (24-hour clock).")))
    day, at = parse_date(words[0]), parse_time(words[1])
    rest = words[2:]
    zone = default_zone
    if rest and looks_like_zone(rest[0]) and not _URL.match(rest[0]) and " " not in rest[0]:
        zone, rest = parse_zone(rest[0]), rest[1:]
    within_window(day, to_wall(ctx.clock.now(), zone).date())
    starts_at = local_datetime(day, at, zone).astimezone(UTC)
    if starts_at <= ctx.clock.now():
        when = format_when(starts_at, zone)
        raise UserError(esc(_("{when} is in the past. Give a future date.").format(when=when[:1].upper() + when[1:])))
    return When(starts_at, zone), rest


def read_title_and_url(words: list[str]) -> tuple[str | None, str | None]:
    urls = [w for w in words if _URL.match(w)]
    if len(urls) > 1:
        raise UserError(esc(_("Give at most one link.")))
    url = urls[0] if urls else None
    if url is not None and len(url) > MAX_URL:
        raise UserError(esc(_("The link is too long (at most {count} characters).").format(count=MAX_URL)))
    title = " ".join(w for w in words if not _URL.match(w)).strip() or None
    if title is not None and len(title) > MAX_TITLE:
        raise UserError(esc(_("The title is too long (at most {count} characters).").format(count=MAX_TITLE)))
    return title, url


def read_table(text: str) -> str:
    code = parse_table_code(text) if text else None
    if code is None or code not in load_knowledge().tables:
        raise UserError(esc(_("I don't know the table “{table}”. The tables are WT1, WT2, WT3, WT4, LT (liaison) and TT (technical).").format(
            table=text[:40]
        )))
    return code


def read_id(ctx: Context, text: str | None) -> int:
    number = parse_number((text or "").lstrip("#"))
    if number is None:
        raise UserError(esc(_("Give the meeting's number, as shown by {command}.").format(
            command=command_text(ctx, "meeting", word("list"))
        )))
    return number


# the /meeting command ----------------------------------------------------------


@registry.command(
    "meeting", "reunion",
    help=N_("Plan, move or cancel a table's meeting (secretaries)"),
    args=N_("add|list|move|cancel|remind …"),
    privileged=True,
    intent="meetings",
)
async def meeting_command(ctx: Context) -> Reply:
    await require_organiser(ctx)
    tokens = split_args(ctx.args)
    action = _SUBCOMMANDS.get(fold(tokens[0])) if tokens else None
    if action is None:
        return ctx.reply(usage(ctx))
    rest = tokens[1:]
    if action == "add":
        return await add(ctx, rest)
    if action == "list":
        return await list_for_secretaries(ctx, rest)
    if action == "move":
        return await move(ctx, rest)
    if action == "cancel":
        return await cancel(ctx, rest)
    return await remind(ctx, rest)


async def require_organiser(ctx: Context) -> None:
    """Secretaries (of any table) and admins go on, to the table's own check; anyone else is
    refused before anything else, whatever they typed."""
    if not await ctx.secretary_tables():
        await ctx.require_admin()


def usage(ctx: Context) -> str:
    name = command_text(ctx, "meeting")
    title = _("Quarterly meeting")
    lines = [
        bold(_("Meetings: what secretaries can do")),
        esc(f'{name} {word("add")} WT2 2027-02-15 15:00 America/Bogota "{title}" https://… '
            f'[--{word("quarterly")}] [--{word("remind")} 7d,1d,1h]'),
        esc(f"{name} {word('list')} [WT2]"),
        esc(f"{name} {word('move')} 12 2027-02-22 15:00 [America/Bogota]"),
        esc(f"{name} {word('cancel')} 12 [{word('all')}]"),
        esc(f"{name} {word('remind')} 12 3d 2h"),
        "",
        esc(_("Dates as 2027-02-15 or 15/02/2027, 24-hour times; without a zone, this chat's ({zone}).").format(zone=ctx.timezone)),
    ]
    return "\n".join(lines)


async def add(ctx: Context, tokens: list[str]) -> Reply:
    options = read_options(tokens)
    words = options.words
    if not words:
        raise UserError(usage(ctx))
    table = read_table(words[0])
    await ctx.require_secretary(table)
    when, rest = read_when(ctx, words[1:], ctx.timezone)
    title, url = read_title_and_url(rest)
    offsets = list(DEFAULT_OFFSETS) if options.offsets is None else options.offsets
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await add_meeting(
            session,
            Meeting(
                table_code=table, title=title, url=url, starts_at=when.starts_at, timezone=when.zone,
                offsets=offsets, quarterly=options.quarterly, occurrence=0, revision=0,
                anchor=to_wall(when.starts_at, when.zone).isoformat(timespec="minutes") if options.quarterly else None,
                status=SCHEDULED, created_by=ctx.user, created_at=now, updated_at=now,
            ),
        )
        await plan_meeting(session, meeting, now)
        chats = len(await subscriptions.subscribed_chats(session, [table]))
        await audit.record(session, ctx.user, "meeting.add", f"meeting:{meeting.id}", _audit_details(meeting), at=now)
    lines = [esc(_("Meeting #{id} saved.").format(id=meeting.id)), "", *meeting_lines(meeting, ctx.timezone)]
    lines += ["", reminders_line(ctx, meeting, chats)]
    if meeting.quarterly:
        lines.append(esc(_("It repeats every three months at the same local time.")))
    return ctx.reply("\n".join(lines), answer=Answer("meetings", (), (table,)))


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


def _audit_details(meeting: Meeting) -> str:
    wall = to_wall(meeting.starts_at, meeting.timezone).isoformat(timespec="minutes")
    return f"{meeting.table_code} {wall} {meeting.timezone} {meeting.title or ''}".strip()


async def list_for_secretaries(ctx: Context, tokens: list[str]) -> Reply:
    tables = [read_table(tokens[0])] if tokens else None
    async with ctx.db.transaction() as session:
        found = await upcoming(session, ctx.clock.now(), tables, limit=LIST_LIMIT * 2, with_cancelled=True)
    if not found:
        return ctx.reply(esc(_("No meetings are planned.")))
    blocks = ["\n".join([*meeting_lines(m, ctx.timezone, with_id=True), secretary_details(m)]) for m in found]
    return ctx.reply("\n\n".join([bold(_("Planned meetings")), *blocks]))


async def _editable(ctx: Context, session: AsyncSession, meeting_id: int) -> Meeting:
    """The meeting, if this person may change it and it can still change."""
    meeting = await get_meeting(session, meeting_id)
    if meeting is None:
        raise UserError(esc(_("There is no meeting #{id}.").format(id=meeting_id)))
    await ctx.require_secretary(meeting.table_code)
    if meeting.cancelled:
        raise UserError(esc(_("Meeting #{id} is cancelled.").format(id=meeting_id)))
    if meeting.starts_at <= ctx.clock.now():
        raise UserError(esc(_("Meeting #{id} has already started.").format(id=meeting_id)))
    return meeting


async def move(ctx: Context, tokens: list[str]) -> Reply:
    meeting_id = read_id(ctx, tokens[0] if tokens else None)
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await _editable(ctx, session, meeting_id)
        when, rest = read_when(ctx, tokens[1:], meeting.timezone)
        if rest:
            raise UserError(esc(_("I only need the number, the date, the time and optionally the zone.")))
        if when.starts_at == meeting.starts_at:
            raise UserError(esc(_("Meeting #{id} is already at that time.").format(id=meeting_id)))
        old_start, old_zone = meeting.starts_at, meeting.timezone
        await deliveries.cancel_meeting_notices(session, meeting.id, REMINDER_KINDS, with_deliveries=True)
        meeting.starts_at, meeting.timezone = when.starts_at, when.zone
        meeting.revision += 1
        meeting.updated_at = now
        await session.flush()
        await plan_meeting(session, meeting, now)
        await announce(session, meeting, "change", now, old=old_start.isoformat(), old_zone=old_zone)
        await audit.record(session, ctx.user, "meeting.move", f"meeting:{meeting.id}", _audit_details(meeting), at=now)
        told = await _who_is_told(ctx, session, meeting)
    lines = [esc(_("Meeting #{id} moved.").format(id=meeting_id) + " " + told), ""]
    lines += [esc(_("Before: {when}").format(when=format_when(old_start, ctx.timezone)))]
    lines += meeting_lines(meeting, ctx.timezone)
    return ctx.reply("\n".join(lines), answer=Answer("meetings", (), (meeting.table_code,)))


async def cancel(ctx: Context, tokens: list[str]) -> Reply:
    meeting_id = read_id(ctx, tokens[0] if tokens else None)
    whole_series = any(fold(t) in _SERIES_WORDS for t in tokens[1:])
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await _editable(ctx, session, meeting_id)
        await deliveries.cancel_meeting_notices(session, meeting.id, REMINDER_KINDS, with_deliveries=True)
        meeting.status, meeting.updated_at = CANCELLED, now
        meeting.revision += 1
        series = meeting.series_id if meeting.quarterly else None
        if whole_series and series is not None:
            await end_series(session, series)
            await deliveries.cancel_meeting_notices(session, meeting.id, ("recur",), with_deliveries=False)
        await session.flush()
        await announce(session, meeting, "cancellation", now)
        action = "meeting.cancel_series" if whole_series and series else "meeting.cancel"
        await audit.record(session, ctx.user, action, f"meeting:{meeting.id}", _audit_details(meeting), at=now)
        told = await _who_is_told(ctx, session, meeting)
    lines = [esc(_("Meeting #{id} cancelled.").format(id=meeting_id) + " " + told), ""]
    lines += meeting_lines(meeting, ctx.timezone)
    if series is not None and not whole_series:
        lines += ["", esc(_("The quarterly series goes on. To end it: {command}").format(
            command=command_text(ctx, "meeting", f"{word('cancel')} {meeting_id} {word('all')}")
        ))]
    elif series is not None:
        lines += ["", esc(_("The quarterly series ends here."))]
    return ctx.reply("\n".join(lines), answer=Answer("meetings", (), (meeting.table_code,)))


async def remind(ctx: Context, tokens: list[str]) -> Reply:
    meeting_id = read_id(ctx, tokens[0] if tokens else None)
    offsets = parse_offsets(tokens[1:])
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await _editable(ctx, session, meeting_id)
        await deliveries.cancel_meeting_notices(session, meeting.id, REMINDER_KINDS, with_deliveries=False)
        meeting.offsets, meeting.updated_at = offsets, now
        await session.flush()
        await plan_meeting(session, meeting, now)
        chats = len(await subscriptions.subscribed_chats(session, [meeting.table_code]))
        await audit.record(session, ctx.user, "meeting.remind", f"meeting:{meeting.id}", " ".join(map(short_offset, offsets)), at=now)
    if not offsets:
        return ctx.reply(esc(_("Meeting #{id} will have no reminders.").format(id=meeting_id)))
    lines = [esc(_("Reminders of meeting #{id} changed.").format(id=meeting_id)), reminders_line(ctx, meeting, chats)]
    return ctx.reply("\n".join(lines))


# everyone: next meetings, calendar ---------------------------------------------


async def my_tables(ctx: Context) -> list[str] | None:
    """The tables this chat follows: its subscriptions; in private, the member's organisation's
    tables; None when neither (all tables)."""
    chat = ctx.message.chat
    async with ctx.db.transaction() as session:
        tables = await subscriptions.chat_tables(session, chat.platform, chat.chat_id or "")
        if not tables and ctx.message.private:
            organisation = await organisations.organisation_of(session, ctx.user)
            tables = organisation.tables() if organisation is not None else []
    return tables or None


async def next_meetings(ctx: Context, tables: list[str] | None, limit: int = 5) -> list[Meeting]:
    async with ctx.db.transaction() as session:
        return await upcoming(session, ctx.clock.now(), tables, limit=limit)


def next_reply(ctx: Context, tables: list[str] | None, found: list[Meeting], *, cadence: bool = False) -> Reply:
    scope = ", ".join(tables) if tables else _("all tables")
    if found:
        text = bold(_("Next meetings ({tables})").format(tables=scope)) + "\n\n" + meetings_list(found, ctx.timezone)
    else:
        text = esc(_("No meeting of {tables} is planned yet.").format(tables=scope))
    if cadence or not found:
        text += "\n\n" + esc(meeting_cadence())
    return ctx.reply(text, answer=Answer("meetings", (), tuple(tables or ())))


@registry.command("next", "proxima", help=N_("The next meetings of my tables"), intent="meetings")
async def next_command(ctx: Context) -> Reply:
    tables = [read_table(ctx.args.strip())] if ctx.args.strip() else await my_tables(ctx)
    return next_reply(ctx, tables, await next_meetings(ctx, tables))


@registry.command(
    "meetings", "reuniones", help=N_("Planned meetings of all tables"), args=N_("[WT1-WT4, LT or TT]"), intent="meetings"
)
async def meetings_command(ctx: Context) -> Reply:
    tables = [read_table(ctx.args.strip())] if ctx.args.strip() else None
    return next_reply(ctx, tables, await next_meetings(ctx, tables, LIST_LIMIT))


@registry.intent("meetings")
async def meetings_intent(ctx: Context) -> Reply:
    understood = ctx.understood
    tables = list(understood.tables) if understood is not None and understood.tables else await my_tables(ctx)
    return next_reply(ctx, tables, await next_meetings(ctx, tables), cadence=True)


@registry.command(
    "calendar", "calendario", help=N_("The next meetings as a calendar file (.ics)"), intent="meetings"
)
async def calendar_command(ctx: Context) -> Reply:
    tables = [read_table(ctx.args.strip())] if ctx.args.strip() else await my_tables(ctx)
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        found = await upcoming(session, now, tables, limit=CALENDAR_LIMIT, with_cancelled=True)
    if not any(not meeting.cancelled for meeting in found):
        return next_reply(ctx, tables, [])
    content = calendar_file(found, now)
    scope = ", ".join(tables) if tables else _("all tables")
    text = esc(ngettext(
        "{count} meeting of {tables} in a calendar file: open it to add it to your calendar.",
        "{count} meetings of {tables} in a calendar file: open it to add them to your calendar.",
        len(found),
    ).format(count=len(found), tables=scope))
    attachment = Attachment("gcm-meetings.ics", content, "text/calendar")
    return ctx.reply(text, attachment=attachment, answer=Answer("meetings", (), tuple(tables or ())))


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
