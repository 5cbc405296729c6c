"""What everyone sees of the meetings: the next ones, all planned ones, a calendar file."""

from __future__ import annotations

from handlers.arguments import TableRef
from handlers.context import Context
from handlers.i18n import N_, _, ngettext
from handlers.markup import esc
from handlers.meetings.ical import calendar_file
from handlers.meetings.rendering import next_reply
from handlers.message import Answer, Attachment, Reply
from handlers.registry import Registry
from storage import organisations, readcache, subscriptions
from storage.meetings import Meeting, upcoming

registry = Registry()

LIST_LIMIT = 10
CALENDAR_LIMIT = 50
FOLLOWED = (
    subscriptions.Subscription.__tablename__,
    organisations.Organisation.__tablename__,
    organisations.Membership.__tablename__,
)
"""The tables :func:`my_tables` reads."""


async def my_tables(ctx: Context) -> list[str] | None:
    """The tables this chat follows: its subscriptions; in private, the member's organisation's
    tables; None when neither (all tables). A cached read."""
    chat = ctx.message.chat

    async def load() -> tuple[str, ...]:
        async with ctx.db.transaction() as session:
            tables = await subscriptions.chat_tables(session, chat.platform, chat.chat_id or "")
            if not tables and ctx.message.private:
                organisation = await organisations.organisation_of(session, ctx.user)
                tables = organisation.tables() if organisation is not None else []
        return tuple(tables)

    key = ("my_tables", chat.platform, chat.chat_id, ctx.user if ctx.message.private else None)
    return list(await ctx.db.reads.get(key, FOLLOWED, load)) or None


async def next_meetings(ctx: Context, tables: list[str] | None, limit: int = 5) -> list[Meeting]:
    return await readcache.upcoming(ctx.db, ctx.clock.now(), tables, limit=limit)


@registry.command(
    "next", "proxima", TableRef(optional=True),
    help=N_("The next meetings of my tables"), intent="meetings", answers=("meetings",),
)  # fmt: skip
async def next_command(ctx: Context, table: str | None) -> Reply:
    """Also the answer to "when do the tables meet?": the tables it names, else this chat's, with the cadence."""
    understood = ctx.understood
    if understood is not None:
        tables = list(understood.tables) or await my_tables(ctx)
        return next_reply(ctx, tables, await next_meetings(ctx, tables), cadence=True)
    tables = [table] if table else await my_tables(ctx)
    return next_reply(ctx, tables, await next_meetings(ctx, tables))


@registry.command(
    "meetings", "reuniones", TableRef(optional=True), help=N_("Planned meetings of all tables"), intent="meetings"
)
async def meetings_command(ctx: Context, table: str | None) -> Reply:
    tables = [table] if table else None
    return next_reply(ctx, tables, await next_meetings(ctx, tables, LIST_LIMIT))


@registry.command(
    "calendar", "calendario", TableRef(optional=True),
    help=N_("The next meetings as a calendar file (.ics)"), intent="meetings",
)  # fmt: skip
async def calendar_command(ctx: Context, table: str | None) -> Reply:
    tables = [table] if table else await my_tables(ctx)
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
