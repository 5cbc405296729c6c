"""Pledges in the chat: a contact records, lists and withdraws their organisation's pledges
(``/compromiso``) and reports on them (``/informar``); secretaries and admins open a round, see
where it stands and export it (``/compromisos pedir|informe``, ``/exportar compromisos``).

Both dialogues (a new pledge; a report, pledge by pledge: status, then an optional note) keep
their state in the database like the registration wizard, and take typed answers as well as
buttons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers import spreadsheet
from handlers.basics import command_text
from handlers.context import Context, State
from handlers.errors import UserError
from handlers.i18n import N_, _
from handlers.knowledge import fold, load_knowledge
from handlers.markup import bold, esc, link
from handlers.arguments import Argument, Id, Text
from handlers.members import export, own_organisation, parse_working_tables, which_table
from handlers.message import Attachment, Button, Reply
from handlers.numbers import parse_number
from handlers.pledge_export import pledges_csv, pledges_xlsx
from handlers.pledge_report import STATUS_LABELS, standing, standing_chart, standing_text
from handlers.pledge_rounds import REPORT_COMMAND, followup_days, start_round
from handlers.registry import Registry
from handlers.vocabulary import accepted_words, shown_word
from handlers.roles import privileged_tables
from handlers.understanding import understand
from storage import audit, pledges
from storage.pledges import STATUSES, PledgeRound
from storage.settings import put_setting

registry = Registry()

NEW_FLOW, REPORT_FLOW = "pledge-new", "pledge-report"
MAX_TITLE, MAX_DESCRIPTION, MAX_NOTE, MAX_URL = 200, 500, 500, 500
SKIP = "-"
_SKIP_WORDS = {SKIP, "skip", "omitir", "saltar", "no", "none", "ninguna", "ninguno"}
_URL = re.compile(r"^https?://\S{3,490}$", re.I)
_NUMBER = re.compile(r"\b(\d{1,2})\b")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# /pledge: new, list, withdraw -----------------------------------------------------


pledge = registry.command("pledge", "compromiso", help=N_("My organisation's pledges"))


def word(key: str) -> str:
    """A sub-command word of ``/pledge`` in the language being rendered."""
    return shown_word("pledge", key)


def _which_pledge(ctx: Context) -> str:
    return _("Give the number of an active pledge, as in {command}.").format(
        command=command_text(ctx, "pledge", word("list"))
    )


@pledge.sub("new", help=N_("record a new pledge (in a private chat)"))
async def new(ctx: Context) -> Reply:
    own = await own_organisation(ctx)
    if not ctx.message.private:
        return ctx.reply(esc(_("Let's do it in a private chat: open a chat with me and send {command}.").format(
            command=command_text(ctx, "pledge", word("new"))
        )), private_start="pledge")
    await ctx.save_state(State(NEW_FLOW, "title", {"organisation": own.id, "lang": ctx.lang}))
    return ctx.reply(esc(_("A new pledge of {organisation}. What is its title? ({command} to stop)").format(
        organisation=own.name, command=command_text(ctx, "cancel")
    )))


@pledge
@pledge.sub("list", help=N_("my organisation's pledges"))
async def list_pledges(ctx: Context) -> Reply:
    own = await own_organisation(ctx)
    async with ctx.db.transaction() as session:
        rows = await pledges.pledges_of(session, own.id)
    if not rows:
        return ctx.reply(esc(_("{organisation} has no pledges on record. Add one with {command}.").format(
            organisation=own.name, command=command_text(ctx, "pledge", word("new"))
        )))
    lines = [bold(_("Pledges of {organisation}").format(organisation=own.name))]
    for row in rows:
        line = f"{row.number}. {esc(row.title)}"
        if row.objectives:
            line += " — " + esc(_("objectives {numbers}").format(numbers=", ".join(map(str, row.objectives))))
        if row.status == pledges.WITHDRAWN:
            line += " " + esc(_("(withdrawn)"))
        if row.url:
            line += " " + link(row.url, _("link"))
        lines.append(line)
    return ctx.reply("\n".join(lines))


@pledge.sub("withdraw", Id(name="number", missing=_which_pledge), help=N_("withdraw one of my organisation's pledges"))
async def withdraw(ctx: Context, number: int) -> Reply:
    own = await own_organisation(ctx)
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        found = {row.number: row for row in await pledges.pledges_of(session, own.id, active_only=True)}
        if number not in found:
            raise UserError(esc(_which_pledge(ctx)))
        await pledges.withdraw(session, found[number], now)
        await audit.record(session, ctx.user, "pledge.withdraw", f"pledge:{found[number].id}", found[number].title, at=now)
    return ctx.reply(esc(_("Done: pledge {number} is withdrawn.").format(number=number)))


@registry.flow(NEW_FLOW)
async def new_pledge_step(ctx: Context, state: State) -> Reply:
    text = ctx.message.text.strip()
    data = state.data
    if state.step == "title":
        if not 3 <= len(text) <= MAX_TITLE:
            raise UserError(esc(_("Give a title of 3 to {max} characters.").format(max=MAX_TITLE)))
        data["title"] = text
        return await _next(ctx, state, "objectives", _(
            "Which GCM objectives does it serve? Numbers (“2, 23”) or words (“trafficking”)."
        ))
    if state.step == "objectives":
        found = objectives_in(text)
        if not found:
            raise UserError(esc(_("I did not recognise an objective. Give numbers from 1 to 23, or a topic.")))
        data["objectives"] = found
        return await _next(ctx, state, "description", _("Objectives {numbers}. Now a one-line description.").format(
            numbers=", ".join(map(str, found))
        ))
    if state.step == "description":
        if not 3 <= len(text) <= MAX_DESCRIPTION:
            raise UserError(esc(_("Give a description of 3 to {max} characters.").format(max=MAX_DESCRIPTION)))
        data["description"] = text
        return await _next(
            ctx, state, "link", _("A link to the pledge on the Global Network's platform (https://…), or skip."),
            buttons=((Button(_("Skip"), SKIP),),),
        )
    url = None if fold(text) in _SKIP_WORDS else text
    if url is not None and (len(url) > MAX_URL or not _URL.match(url)):
        raise UserError(esc(_("Give a link starting with https://, or “-” to skip.")))
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        row = await pledges.add_pledge(
            session, int(data["organisation"]), title=data["title"], objectives=data["objectives"],
            description=data["description"], url=url, by=ctx.user, at=now,
        )
        await audit.record(session, ctx.user, "pledge.new", f"pledge:{row.id}", row.title, at=now)
    await ctx.end_state()
    return ctx.reply(esc(_("Saved: pledge {number}, “{title}”. See them all with {command}.").format(
        number=row.number, title=row.title, command=command_text(ctx, "pledge", word("list"))
    )))


async def _next(
    ctx: Context, state: State, step: str, question: str, buttons: tuple[tuple[Button, ...], ...] = ()
) -> Reply:
    state.step = step
    await ctx.save_state(state)
    return ctx.reply(esc(question), buttons=buttons)


def objectives_in(text: str) -> list[int]:
    """The GCM objectives a text names: by number, else by topic (as any question is understood)."""
    known = load_knowledge().objectives
    numbers = sorted({int(n) for n in _NUMBER.findall(text) if int(n) in known})
    return numbers or sorted(understand(text).objectives)


# /report: the round's dialogue ----------------------------------------------------


@registry.command(
    REPORT_COMMAND["en"], REPORT_COMMAND["es"],
    Id(name="number", optional=True, missing=_which_pledge), Text(name="status", label=N_("status"), optional=True),
    help=N_("Report on my organisation's pledges"),
)  # fmt: skip
async def report(ctx: Context, number: int | None, status: str | None) -> Reply:
    """``/informar``: the round's questions, pledge by pledge; ``/informar 2 avanza``: that one first, answered."""
    own = await own_organisation(ctx)
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        found = await pledges.current_round(session, now)
        waiting = await pledges.unreported(session, found.id, own.id) if found else []
        active = await pledges.pledges_of(session, own.id, active_only=True)
    if found is None:
        raise UserError(esc(_("No reporting round is open now; I will write to you when the next one opens.")))
    if not active:
        raise UserError(esc(_("{organisation} has no active pledges. Add one with {command}.").format(
            organisation=own.name, command=command_text(ctx, "pledge", word("new"))
        )))
    by_number = {row.number: row.id for row in active}
    queue = [row.id for row in waiting] or [row.id for row in active]
    if number is not None and number not in by_number:
        raise UserError(esc(_which_pledge(ctx)))
    if number is not None:
        chosen = by_number[number]
        queue = [chosen, *(pledge_id for pledge_id in queue if pledge_id != chosen)]
    state = State(REPORT_FLOW, "status", {"round": found.id, "queue": queue, "lang": ctx.lang})
    if status is not None:
        return await report_step(ctx, state, status)
    await ctx.save_state(state)
    return await _ask_status(ctx, state)


@registry.flow(REPORT_FLOW)
async def report_flow(ctx: Context, state: State) -> Reply:
    return await report_step(ctx, state, ctx.message.text.strip())


async def report_step(ctx: Context, state: State, text: str) -> Reply:
    data = state.data
    if state.step == "status":
        status = parse_status(text)
        if status is None:
            await ctx.save_state(state)
            raise UserError(esc(_("Choose one of the buttons: {statuses}.").format(
                statuses=", ".join(_(STATUS_LABELS[s]) for s in STATUSES)
            )))
        data["status"] = status
        state.step = "note"
        await ctx.save_state(state)
        return ctx.reply(
            esc(_("A short note on it? Write it, or skip.")), buttons=((Button(_("Skip"), SKIP),),)
        )
    note = "" if fold(text) in _SKIP_WORDS else text[:MAX_NOTE]
    now = ctx.clock.now()
    queue: list[int] = data["queue"]
    async with ctx.db.transaction() as session:
        found = await session.get(PledgeRound, data["round"])
        row = await session.get(pledges.Pledge, queue[0])
        if found is None or row is None:
            await ctx.end_state()
            raise UserError(esc(_("That round is over.")))
        await pledges.add_report(session, found.id, row, data["status"], note, ctx.user, now)
        await audit.record(session, ctx.user, "pledge.report", f"pledge:{row.id}", f"{found.period} {data['status']}", at=now)
    done = esc(_("Recorded: pledge {number} is {status}.").format(
        number=row.number, status=_(STATUS_LABELS[data["status"]])
    ))
    state.data["queue"], state.step = queue[1:], "status"
    if not state.data["queue"]:
        await ctx.end_state()
        return ctx.reply(done + "\n" + esc(_("Thank you: everything is reported for round {period}.").format(period=found.period)))
    await ctx.save_state(state)
    following = await _ask_status(ctx, state)
    return ctx.reply(done + "\n\n" + following.html, buttons=following.buttons)


async def _ask_status(ctx: Context, state: State) -> Reply:
    async with ctx.db.transaction() as session:
        row = await session.get(pledges.Pledge, state.data["queue"][0])
    assert row is not None
    buttons = [Button(_(STATUS_LABELS[status]), status) for status in STATUSES]
    return ctx.reply(
        bold(_("Pledge {number}: {title}").format(number=row.number, title=esc(row.title))) + "\n"
        + esc(_("How is it going?")),
        buttons=(tuple(buttons[:3]), tuple(buttons[3:])),
    )


def parse_status(text: str) -> str | None:
    """A status typed or pressed: its key, its label in either language, or its position (1-5)."""
    typed = fold(text.replace("_", " "))
    position = parse_number(typed, 1, len(STATUSES))
    if position is not None:
        return STATUSES[position - 1]
    for status in STATUSES:
        if typed in {fold(status.replace("_", " ")), fold(_(STATUS_LABELS[status])), fold(STATUS_LABELS[status])}:
            return status
    return None


# /pledges request | report | followups (secretaries, admins) -------------------------------


ALL = "all"


@dataclass(frozen=True, kw_only=True)
class Scope(Argument):
    """Whose pledges: a Working Table (``WT3``, ``3``) or ``all`` (administrators) -> its code or "all"."""

    name: str = "scope"
    label: str = N_("table or all")

    def accepts(self, token: str) -> bool:
        if accepted_words("pledges").get(fold(token)) == ALL:
            return True
        try:
            return bool(parse_working_tables(token))
        except UserError:
            return False

    def convert(self, ctx: Context, text: str) -> str | tuple[str, ...]:
        return ALL if accepted_words("pledges").get(fold(text)) == ALL else tuple(parse_working_tables(text))


async def chosen_tables(ctx: Context, scope: str | tuple[str, ...] | None) -> list[str] | None:
    """The table named (a secretary's, checked) or ``all`` (admins): None means every table; without
    one, the secretary's only table."""
    allowed = await privileged_tables(ctx)
    if scope == ALL:
        await ctx.require_admin()
        return None
    tables = list(scope) if scope else sorted(allowed or [])
    if len(tables) != 1:
        raise UserError(which_table(ctx, "pledges", sorted(allowed) if allowed else ["WT1"]))
    await ctx.require_secretary(tables[0])
    return tables


def _label(tables: list[str] | None) -> str:
    return tables[0] if tables else _("the whole Mechanism")


async def request_round(ctx: Context, tables: list[str] | None) -> Reply:
    now = ctx.clock.now()
    config = ctx.config
    async with ctx.db.transaction() as session:
        found, asked = await start_round(
            session, now, config.default_timezone, config.default_language, tables=tables, by=ctx.user
        )
        await audit.record(session, ctx.user, "pledges.request", "pledges", f"{found.period} {_label(tables)}", at=now)
    return ctx.reply(esc(_("Round {period} is open for {target}: {count} organisations asked now (those asked before are not asked again).").format(
        period=found.period, target=_label(tables), count=asked
    )))


async def standing_replies(ctx: Context, tables: list[str] | None, period: str | None) -> list[Reply]:
    if period is not None and not _PERIOD.match(period):
        raise UserError(esc(_("Give the round as year and month, e.g. 2027-04.")))
    async with ctx.db.transaction() as session:
        found = await pledges.get_round(session, period) if period else await pledges.latest_round(session)
        if found is None:
            raise UserError(esc(_("There is no reporting round {period}.").format(period=period or "")))
        figures = await standing(session, tables, found, _label(tables))
    chart = Attachment(f"pledges-{found.period}-{_label(tables) if tables else 'all'}.png", standing_chart(figures), "image/png")
    return [ctx.reply(standing_text(figures)), ctx.image(chart)]


def followups_help(ctx: Context) -> str:
    return _("Give the days after a round opens, from 1 to 27, e.g. {command}.").format(
        command=command_text(ctx, "pledges", f"{shown_word('pledges', 'followups')} 7 14")
    )


async def set_followups(ctx: Context, days: list[int]) -> Reply:
    await ctx.require_admin()
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        await put_setting(session, "pledges.followups", ",".join(map(str, sorted(set(days)))))
        await audit.record(session, ctx.user, "pledges.followups", "pledges", " ".join(map(str, days)), at=now)
        stored = await followup_days(session)
    return ctx.reply(esc(_("Done: follow-ups go {days} days after a round opens, to those who have not reported.").format(
        days=", ".join(map(str, stored))
    )))


@export.sub("pledges", Scope(optional=True), help=N_("a table's pledges and their reports (Excel and CSV)"))
async def export_pledges(ctx: Context, scope: str | tuple[str, ...] | None) -> list[Reply]:
    """``/exportar compromisos WT3``: the pledges and their reports, as XLSX and CSV."""
    tables = await chosen_tables(ctx, scope)
    async with ctx.db.transaction() as session:
        rows = await pledges.table_pledges(session, tables)
        reports = await pledges.reports_of(session, [row.id for _organisation, row in rows])
    name = f"pledges-{tables[0] if tables else 'all'}"
    text = _("{count} pledges of {target}, with their reports.").format(count=len(rows), target=_label(tables))
    return [
        ctx.reply(esc(text), attachment=Attachment(
            f"{name}.xlsx", pledges_xlsx(rows, reports, ctx.timezone), spreadsheet.XLSX_TYPE
        )),
        ctx.reply("", attachment=Attachment(
            f"{name}.csv", pledges_csv(rows, reports, ctx.timezone), spreadsheet.CSV_TYPE
        )),
    ]
