"""``/meeting``: secretaries plan, list, move and cancel their tables' meetings and set their reminders."""

from __future__ import annotations

from datetime import date, time

from handlers.agenda import meeting_lines
from handlers.arguments import Date, Durations, Flag, Id, Option, TableRef, Text, Time, Url, Word, Zone, is_url
from handlers.basics import command_text
from handlers.context import Context
from handlers.dates import format_when, short_offset, to_wall
from handlers.errors import UserError
from handlers.i18n import N_, _
from handlers.markup import bold, esc
from handlers.meetings.access import editable, require_organiser
from handlers.meetings.planning import REMINDER_KINDS, announce, audit_details, plan_meeting, starts_at
from handlers.meetings.rendering import reminders_line, secretary_details, who_is_told
from handlers.message import Answer, Reply
from handlers.registry import Registry
from handlers.vocabulary import shown_word
from storage import audit, deliveries, subscriptions
from storage.meetings import CANCELLED, DEFAULT_OFFSETS, SCHEDULED, Meeting, add_meeting, end_series, upcoming

registry = Registry()

MAX_TITLE = 200
LIST_LIMIT = 10
DATE_AND_TIME = N_("Give the date and the time, e.g. 2027-02-15 15:00 (24-hour clock).")


def _formats(ctx: Context) -> str:
    return _("Dates as 2027-02-15 or 15/02/2027, 24-hour times; without a zone, this chat's ({zone}).").format(
        zone=ctx.timezone
    )


def _which_meeting(ctx: Context) -> str:
    return _("Give the meeting's number, as shown by {command}.").format(
        command=command_text(ctx, "meeting", shown_word("meeting", "list"))
    )


def word(name: str) -> str:
    """A sub-command word in the language being rendered."""
    return shown_word("meeting", name)


meeting = registry.command(
    "meeting", "reunion",
    help=N_("Plan, move or cancel a table's meeting (secretaries)"),
    privileged=True,
    intent="meetings",
    guard=require_organiser,
    note=_formats,
)  # fmt: skip


@meeting.sub(
    "add",
    TableRef(greedy=False),
    Date(missing=DATE_AND_TIME),
    Time(missing=DATE_AND_TIME),
    Zone(optional=True),
    Text(name="title", label=N_("title"), optional=True, stop=is_url, max_length=MAX_TITLE,
         too_long=N_("The title is too long (at most {limit} characters)."),
         unclosed=N_("A quotation mark is not closed. Put the title between quotes: \"Quarterly meeting\".")),
    Url(optional=True),
    Flag(name="quarterly", group="meeting"),
    Option(name="remind", group="meeting", value=Durations()),
    help=N_("plan a meeting"),
)  # fmt: skip
async def add(
    ctx: Context,
    table: str,
    day: date,
    at: time,
    zone: str | None,
    title: str | None,
    url: str | None,
    quarterly: bool,
    remind: list[int] | None,
) -> Reply:
    await ctx.require_secretary(table)
    zone = zone or ctx.timezone
    start = starts_at(day, at, zone, ctx.clock.now())
    offsets = list(DEFAULT_OFFSETS) if remind is None else remind
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await add_meeting(
            session,
            Meeting(
                table_code=table, title=title, url=url, starts_at=start, timezone=zone,
                offsets=offsets, quarterly=quarterly, occurrence=0, revision=0,
                anchor=to_wall(start, zone).isoformat(timespec="minutes") if quarterly else None,
                status=SCHEDULED, created_by=ctx.user, created_at=now, updated_at=now,
            ),
        )  # fmt: skip
        await plan_meeting(session, meeting, now)
        chats = len(await subscriptions.subscribed_chats(session, [table]))
        await audit.record(session, ctx.user, "meeting.add", f"meeting:{meeting.id}", audit_details(meeting), at=now)
    lines = [esc(_("Meeting #{id} saved.").format(id=meeting.id)), "", *meeting_lines(meeting, ctx.timezone)]
    lines += ["", reminders_line(ctx, meeting, chats)]
    if meeting.quarterly:
        lines.append(esc(_("It repeats every three months at the same local time.")))
    return ctx.reply("\n".join(lines), answer=Answer("meetings", (), (table,)))


@meeting.sub("list", TableRef(optional=True), help=N_("the planned meetings, with their numbers"))
async def list_for_secretaries(ctx: Context, table: str | None) -> Reply:
    async with ctx.db.transaction() as session:
        found = await upcoming(
            session, ctx.clock.now(), [table] if table else None, limit=LIST_LIMIT * 2, with_cancelled=True
        )
    if not found:
        return ctx.reply(esc(_("No meetings are planned.")))
    blocks = ["\n".join([*meeting_lines(m, ctx.timezone, with_id=True), secretary_details(m)]) for m in found]
    return ctx.reply("\n\n".join([bold(_("Planned meetings")), *blocks]))


@meeting.sub(
    "move",
    Id(missing=_which_meeting),
    Date(missing=DATE_AND_TIME),
    Time(missing=DATE_AND_TIME),
    Zone(optional=True),
    help=N_("move a meeting to another day or time"),
)
async def move(ctx: Context, id: int, day: date, at: time, zone: str | None) -> Reply:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await editable(ctx, session, id)
        zone = zone or meeting.timezone
        start = starts_at(day, at, zone, now)
        if start == meeting.starts_at:
            raise UserError(esc(_("Meeting #{id} is already at that time.").format(id=id)))
        old_start, old_zone = meeting.starts_at, meeting.timezone
        await deliveries.cancel_meeting_notices(session, meeting.id, REMINDER_KINDS, with_deliveries=True)
        meeting.starts_at, meeting.timezone = start, zone
        meeting.revision += 1
        meeting.updated_at = now
        await session.flush()
        await plan_meeting(session, meeting, now)
        await announce(session, meeting, "change", now, old=old_start.isoformat(), old_zone=old_zone)
        await audit.record(session, ctx.user, "meeting.move", f"meeting:{meeting.id}", audit_details(meeting), at=now)
        told = await who_is_told(ctx, session, meeting)
    lines = [esc(_("Meeting #{id} moved.").format(id=id) + " " + told), ""]
    lines += [esc(_("Before: {when}").format(when=format_when(old_start, ctx.timezone)))]
    lines += meeting_lines(meeting, ctx.timezone)
    return ctx.reply("\n".join(lines), answer=Answer("meetings", (), (meeting.table_code,)))


@meeting.sub(
    "cancel",
    Id(missing=_which_meeting),
    Word(name="series", label="", group="meeting", keys=("all",), optional=True),
    help=N_("cancel a meeting (with the word for all: its quarterly series)"),
)
async def cancel(ctx: Context, id: int, series: str | None) -> Reply:
    whole_series = series == "all"
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await editable(ctx, session, id)
        await deliveries.cancel_meeting_notices(session, meeting.id, REMINDER_KINDS, with_deliveries=True)
        meeting.status, meeting.updated_at = CANCELLED, now
        meeting.revision += 1
        series_id = meeting.series_id if meeting.quarterly else None
        if whole_series and series_id is not None:
            await end_series(session, series_id)
            await deliveries.cancel_meeting_notices(session, meeting.id, ("recur",), with_deliveries=False)
        await session.flush()
        await announce(session, meeting, "cancellation", now)
        action = "meeting.cancel_series" if whole_series and series_id else "meeting.cancel"
        await audit.record(session, ctx.user, action, f"meeting:{meeting.id}", audit_details(meeting), at=now)
        told = await who_is_told(ctx, session, meeting)
    lines = [esc(_("Meeting #{id} cancelled.").format(id=id) + " " + told), ""]
    lines += meeting_lines(meeting, ctx.timezone)
    if series_id is not None and not whole_series:
        lines += ["", esc(_("The quarterly series goes on. To end it: {command}").format(
            command=command_text(ctx, "meeting", f"{word('cancel')} {id} {word('all')}")
        ))]
    elif series_id is not None:
        lines += ["", esc(_("The quarterly series ends here."))]
    return ctx.reply("\n".join(lines), answer=Answer("meetings", (), (meeting.table_code,)))


@meeting.sub("remind", Id(missing=_which_meeting), Durations(), help=N_("change a meeting's reminders (“none” for none)"))
async def remind(ctx: Context, id: int, offsets: list[int]) -> Reply:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        meeting = await editable(ctx, session, id)
        await deliveries.cancel_meeting_notices(session, meeting.id, REMINDER_KINDS, with_deliveries=False)
        meeting.offsets, meeting.updated_at = offsets, now
        await session.flush()
        await plan_meeting(session, meeting, now)
        chats = len(await subscriptions.subscribed_chats(session, [meeting.table_code]))
        await audit.record(session, ctx.user, "meeting.remind", f"meeting:{meeting.id}", " ".join(map(short_offset, offsets)), at=now)
    if not offsets:
        return ctx.reply(esc(_("Meeting #{id} will have no reminders.").format(id=id)))
    lines = [esc(_("Reminders of meeting #{id} changed.").format(id=id)), reminders_line(ctx, meeting, chats)]
    return ctx.reply("\n".join(lines))
