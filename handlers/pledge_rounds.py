"""Reporting rounds: opening one, asking each organisation's contact, chasing who has not
answered, and the summary to the secretaries when it closes.

Every message here is a message to one person through the outbox (:func:`handlers.direct.tell`),
planned once under a key naming what, which round and which organisation
(``pledge-request:2027-04:12``), so opening a round twice, a restart, or a chase running again
sends nothing twice. The round's later work is planned as notices when it opens:
``pledge-chase`` after each follow-up delay and ``pledge-close`` at the end of its month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import direct, recipients
from handlers.dates import instant_of
from handlers.i18n import _, current_locale, use_locale
from handlers.knowledge import TABLE_CODES
from handlers.markup import bold, esc
from handlers.message import Button
from handlers.pledge_report import standing, standing_text, status_label
from storage import deliveries, organisations, pledges, roles
from storage.deliveries import Notice, Recipient
from storage.organisations import Organisation
from storage.pledges import STATUSES, Pledge, PledgeRound
from storage.settings import get_setting

CHASE, CLOSE = "pledge-chase", "pledge-close"
REQUEST = "pledge-request"
FOLLOWUPS_KEY = "pledges.followups"
DEFAULT_FOLLOWUPS: tuple[int, ...] = (7, 14)
REPORT_COMMAND = {"en": "report", "es": "informar"}
"""The names of ``/report``, for messages rendered outside a chat (see handlers.pledge_commands)."""


def period_of(now: datetime, zone: str) -> str:
    """The round named by the month of ``now`` in ``zone`` (``2027-04``)."""
    return f"{now.astimezone(ZoneInfo(zone)):%Y-%m}"


def round_end(period: str, zone: str) -> datetime:
    """The first instant of the month after ``period``, in ``zone``: when its round closes."""
    year, month = (int(part) for part in period.split("-"))
    following = date(year + month // 12, month % 12 + 1, 1)
    return instant_of(datetime.combine(following, time(0, 0)), zone)


async def followup_days(session: AsyncSession) -> tuple[int, ...]:
    stored = await get_setting(session, FOLLOWUPS_KEY)
    return tuple(int(day) for day in stored.split(",")) if stored else DEFAULT_FOLLOWUPS


def report_command(*args: str) -> str:
    """``/informar`` or ``/report`` in the language being rendered."""
    return " ".join((f"/{REPORT_COMMAND.get(current_locale(), 'report')}", *args))


async def start_round(
    session: AsyncSession, now: datetime, zone: str, language: str, *, tables: list[str] | None, by: str | None
) -> tuple[PledgeRound, int]:
    """Open this month's round (if it is not open yet) and ask every organisation in ``tables``
    (None: all) with active pledges that was not asked yet. Returns the round and how many were asked."""
    period = period_of(now, zone)
    found, new = await pledges.open_round(session, period, at=now, closes_at=round_end(period, zone), by=by)
    if new:
        for days in await followup_days(session):
            due = now + timedelta(days=days)
            if due < found.closes_at:
                await deliveries.ensure_notice(
                    session, key=f"{CHASE}:{period}:{days}", kind=CHASE, due_at=due,
                    payload={"period": period, "days": days},
                )
        await deliveries.ensure_notice(
            session, key=f"{CLOSE}:{period}", kind=CLOSE, due_at=found.closes_at, payload={"period": period}
        )
    if found.closed:
        return found, 0
    asked = await ask(
        session, found, await pledges.pledging_organisations(session, tables), now, language, once=f"{REQUEST}:{period}"
    )
    return found, asked


async def ask(
    session: AsyncSession,
    found: PledgeRound,
    asked: list[Organisation],
    now: datetime,
    language: str,
    *,
    once: str,
) -> int:
    """Plan the request (or follow-up) ``once:<organisation id>`` to each organisation's contact
    about its pledges not yet reported in the round, in the contact's language; returns how many
    were new (nobody to ask, nothing to ask about, or planned before: none)."""
    waiting = await pledges.unreported_of(session, found.id, [organisation.id for organisation in asked])
    messages: list[direct.Planned] = []
    for organisation in asked:
        pending = waiting.get(organisation.id)
        if organisation.contact_user is None or not pending:
            continue
        with use_locale(organisation.language or language):
            html = request_text(found.period, organisation.name, pending, chase=not once.startswith(REQUEST))
            buttons = status_buttons(pending[0])
        messages.append(direct.Planned(
            organisation.contact_user, html, owner=None, buttons=buttons, once=f"{once}:{organisation.id}",
            about={"what": REQUEST, "period": found.period, "organisation": organisation.name},
        ))
    return await direct.tell_many(session, messages, at=now)


def request_text(period: str, organisation: str, waiting: list[Pledge], *, chase: bool) -> str:
    head = (
        _("Reminder: the pledge reporting round {period} is still waiting for {organisation}.")
        if chase
        else _("Pledge reporting round {period}: how are the pledges of {organisation} going?")
    ).format(period=period, organisation=organisation)
    lines = [bold(head), ""]
    lines += [esc(f"{pledge.number}. {pledge.title}") for pledge in waiting]
    lines += ["", esc(_(
        "Answer with the buttons for pledge {number}, then I will ask about the next one; or send {command}."
    ).format(number=waiting[0].number, command=report_command()))]
    return "\n".join(lines)


def status_buttons(pledge: Pledge) -> tuple[tuple[Button, ...], ...]:
    """The five statuses of one pledge, in the language being rendered."""
    row = [Button(status_label(status), report_command(str(pledge.number), status)) for status in STATUSES]
    return (tuple(row[:3]), tuple(row[3:]))


async def chase(session: AsyncSession, notice: Notice, now: datetime, language: str) -> int:
    """A follow-up to every organisation asked in the round whose pledges are not all reported."""
    period, days = notice.payload["period"], notice.payload["days"]
    found = await pledges.get_round(session, period)
    if found is None or found.closed:
        return 0
    asked = await pledges.organisations_by_id(session, await asked_organisations(session, period))
    return await ask(session, found, asked, now, language, once=f"{CHASE}:{period}:{days}")


async def asked_organisations(session: AsyncSession, period: str) -> list[int]:
    """The organisations whose request of the round was planned (their keys name them)."""
    prefix = f"{direct.KIND}:{REQUEST}:{period}:"
    keys = await session.scalars(select(Notice.key).where(Notice.key.startswith(prefix, autoescape=True)))
    return sorted(int(key.removeprefix(prefix)) for key in keys)


async def close(session: AsyncSession, notice: Notice, now: datetime, language: str) -> int:
    """Close the round and send each table's secretaries where their table stands."""
    found = await pledges.get_round(session, notice.payload["period"])
    if found is None or not await pledges.close_round(session, found.id):
        return 0
    told = 0
    for table in TABLE_CODES:
        figures = await standing(session, [table], found, table)
        if not figures.reported and not figures.missing:
            continue
        for secretary in await roles.secretaries(session, table):
            reader = await recipients.person(session, secretary)
            with use_locale(reader.language or language):
                html = bold(_("The pledge reporting round {period} is closed.").format(period=found.period))
                html += "\n" + standing_text(figures)
            told += await direct.tell(
                session, secretary, html, at=now, owner=None, once=f"pledge-summary:{found.period}:{table}:{secretary}",
                about={"what": "pledge-summary", "period": found.period, "table": table},
            )
    return told


async def reminder_audience(session: AsyncSession) -> list[Recipient]:
    """Who gets the generic pledge reminder: every following chat, and the contacts of
    organisations without pledges on record (the others get the round's request)."""
    asked = {organisation.contact_user for organisation in await pledges.pledging_organisations(session, None)}
    contacts = [
        await recipients.person(session, contact.user_key, contact.language)
        for contact in await organisations.member_contacts(session, None)
        if contact.user_key not in asked
    ]
    return recipients.unique([*await recipients.table_chats(session, None), *contacts])
