"""Quarterly pledge-reporting reminders (work plan 2023-24, activity 1.3: April, June, September,
December): when they go out — a day and hour admins choose, in the bot's time zone — and what
they say. The next one is always planned in the outbox; sending one plans the following one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import pledge_commands
from handlers.basics import command_text, months
from handlers.context import Context
from handlers.dates import format_when, instant_of
from handlers.i18n import N_, _
from handlers.knowledge import load_knowledge
from handlers.markup import bold, esc, link
from handlers.message import Reply
from handlers.arguments import Number, Numbers, Text, Time, Url
from handlers.pledge_commands import Scope
from handlers.registry import Registry
from handlers.vocabulary import shown_word
from storage import audit, deliveries
from storage.pledges import current_round
from storage.settings import get_setting, put_setting

registry = Registry()

DAY_KEY, TIME_KEY, LINK_KEY = "pledges.day", "pledges.time", "pledges.link"
DEFAULT_DAY, DEFAULT_TIME = 15, time(10, 0)
DEFAULT_LINK = "https://migrationnetwork.un.org/country-regional-network/latin-america-caribbean"
"""The Regional Network's page (seed 003), the way into the Global Network's pledging reporting."""
LAST_DAY = 28
"""The reminder's day must exist in every month."""



@dataclass(frozen=True)
class PledgeSchedule:
    day: int
    at: time
    link: str


def pledge_months() -> tuple[int, ...]:
    return load_knowledge().cadence.pledge_monitoring_months


async def pledge_schedule(session: AsyncSession) -> PledgeSchedule:
    day = await get_setting(session, DAY_KEY)
    at = await get_setting(session, TIME_KEY)
    return PledgeSchedule(
        day=int(day) if day else DEFAULT_DAY,
        at=time.fromisoformat(at) if at else DEFAULT_TIME,
        link=await get_setting(session, LINK_KEY) or DEFAULT_LINK,
    )


def next_pledge_time(now: datetime, schedule: PledgeSchedule, zone: str) -> datetime:
    """The first reminder time after ``now``: the chosen day and hour of a monitoring month."""
    local_year = now.astimezone(ZoneInfo(zone)).year
    for year in (local_year, local_year + 1):
        for month in sorted(pledge_months()):
            due = instant_of(datetime.combine(date(year, month, schedule.day), schedule.at), zone)
            if due > now:
                return due
    raise AssertionError("no monitoring month configured")


async def plan_next_pledge(session: AsyncSession, now: datetime, zone: str) -> None:
    """Make sure the next reminder is planned, and only it (the schedule may have changed)."""
    due = next_pledge_time(now, await pledge_schedule(session), zone)
    key = f"pledge:{due:%Y-%m}"
    for notice in await deliveries.notices_of(session, "pledge", status=deliveries.PENDING):
        if notice.due_at is not None and notice.due_at > now and (notice.key != key or notice.due_at != due):
            notice.status = deliveries.CANCELLED
    await session.flush()
    await deliveries.ensure_notice(
        session, key=key, kind="pledge", due_at=due, payload={"year": due.year, "month": due.month}
    )


def pledge_text(year: int, month: int, url: str) -> str:
    """The reminder members receive."""
    month_name = months([month])
    lines = [
        bold(_("Pledge reporting: {month} {year}").format(month=month_name, year=year)),
        "",
        esc(_(
            "It is time for the quarterly monitoring of the GCM pledges ({months}). If your organisation "
            "made a pledge, please report its progress this month through the Global Network's pledging "
            "reporting, as agreed in the Regional Network's work plan."
        ).format(months=months(pledge_months()))),
        "",
        esc(_("How to report:")) + " " + link(url, url),
    ]
    return "\n".join(lines)


def _day_example(ctx: Context) -> str:
    return command_text(ctx, "pledges", f"{shown_word('pledges', 'day')} 15 10:00")


def _which_day(ctx: Context) -> str:
    return _("Give a day from 1 to {last} and optionally an hour, e.g. {command}").format(
        last=LAST_DAY, command=_day_example(ctx)
    )


pledges = registry.command("pledges", "compromisos", help=N_("Quarterly pledge reporting: when and how"))


@pledges
async def overview(ctx: Context) -> Reply:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        schedule = await pledge_schedule(session)
        open_round = await current_round(session, now)
    due = next_pledge_time(now, schedule, ctx.config.default_timezone)
    lines = [
        bold(_("Pledge monitoring")),
        esc(_("Pledges are monitored every quarter, in {months}.").format(months=months(pledge_months()))),
        esc(_("Next reminder: {when}.").format(when=format_when(due, ctx.timezone))),
        esc(_("How to report:")) + " " + link(schedule.link, schedule.link),
    ]
    if open_round is not None:
        lines.append(esc(_("The reporting round {period} is open: report on your pledges with {command}.").format(
            period=open_round.period, command=command_text(ctx, "report")
        )))
    if ctx.is_admin():
        lines += ["", esc(_("Change the day and hour: {command}").format(command=_day_example(ctx)))]
    return ctx.reply("\n".join(lines))


@pledges.sub(
    "day", Number(name="day", low=1, high=LAST_DAY, missing=_which_day), Time(optional=True),
    help=N_("the day and hour of the quarterly pledge reminders (administrators)"), guard=Context.require_admin,
)  # fmt: skip
async def set_day(ctx: Context, day: int, at: time | None) -> Reply:
    now = ctx.clock.now()
    zone = ctx.config.default_timezone
    async with ctx.db.transaction() as session:
        at = at or (await pledge_schedule(session)).at
        await put_setting(session, DAY_KEY, str(day))
        await put_setting(session, TIME_KEY, at.strftime("%H:%M"))
        await plan_next_pledge(session, now, zone)
        schedule = await pledge_schedule(session)
        await audit.record(session, ctx.user, "pledges.schedule", "pledges", f"{day} {at:%H:%M} {zone}", at=now)
    due = next_pledge_time(now, schedule, zone)
    return ctx.reply(esc(_("Done: pledge reminders go out on day {day} at {time} ({zone}). Next one: {when}.").format(
        day=day, time=at.strftime("%H:%M"), zone=zone, when=format_when(due, ctx.timezone)
    )))


@pledges.sub(
    "link", Url(missing=N_("Give one link starting with https://")),
    help=N_("where members report their pledges (administrators)"), guard=Context.require_admin,
)  # fmt: skip
async def set_link(ctx: Context, url: str) -> Reply:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        await put_setting(session, LINK_KEY, url)
        await audit.record(session, ctx.user, "pledges.link", "pledges", url, at=now)
    return ctx.reply(esc(_("Done: pledge reminders will point to {url}.").format(url=url)))


@pledges.sub("request", Scope(optional=True), help=N_("open a reporting round and ask the organisations"))
async def request(ctx: Context, scope: str | tuple[str, ...] | None) -> Reply:
    return await pledge_commands.request_round(ctx, await pledge_commands.chosen_tables(ctx, scope))


@pledges.sub(
    "report", Scope(optional=True), Text(name="period", label="2027-04", optional=True),
    help=N_("where a reporting round stands, with a chart"),
)  # fmt: skip
async def report(ctx: Context, scope: str | tuple[str, ...] | None, period: str | None) -> list[Reply]:
    tables = await pledge_commands.chosen_tables(ctx, scope)
    return await pledge_commands.standing_replies(ctx, tables, period)


@pledges.sub(
    "followups", Numbers(name="days", low=1, high=27, missing=pledge_commands.followups_help),
    help=N_("the days after a round opens when those who have not reported are reminded (administrators)"),
    guard=Context.require_admin,
)  # fmt: skip
async def followups(ctx: Context, days: list[int]) -> Reply:
    return await pledge_commands.set_followups(ctx, days)
