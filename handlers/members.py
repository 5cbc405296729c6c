"""Member organisations: their vocabulary (stakeholder types, Working Tables), how they are
shown, the secretaries' lists and CSV export, and the members' own record and erasure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from handlers import spreadsheet
from handlers.basics import command_text, table_label
from handlers.context import Context
from handlers.countries import country_name
from handlers.dates import format_day
from handlers.errors import UserError
from handlers.i18n import N_, _, ngettext
from handlers.knowledge import WORKING_TABLES, fold, load_knowledge, parse_table_code
from handlers.markup import bold, esc
from handlers.message import Attachment, Button, Reply
from handlers.numbers import is_number, parse_number
from handlers.pages import more_button, page_line, page_of
from handlers.arguments import Argument, Page, Text, Word
from handlers.registry import Registry
from handlers.roles import privileged_tables, require_privileged
from handlers.vocabulary import answer_words
from storage import audit, erasure, organisations
from storage.organisations import APPROVED, LEFT, PENDING, REJECTED, Membership, Organisation
from storage.pledges import erase_reporters

registry = Registry()

STAKEHOLDER_TYPES: dict[str, str] = {
    "civil_society": N_("Civil-society organisation"),
    "migrants": N_("Migrant or diaspora organisation"),
    "migrant_women": N_("Migrant women's organisation"),
    "faith": N_("Faith-based organisation"),
    "private_sector": N_("Private sector"),
    "trade_union": N_("Trade union"),
    "human_rights": N_("National or local human-rights institution"),
    "academia": N_("Academia"),
    "media": N_("Media"),
    "other": N_("Other stakeholder"),
}
"""The stakeholders the Terms of Reference invite to join (seed 001, "Membership")."""
_SHORT_TYPES: dict[str, str] = {
    "civil_society": N_("civil society"),
    "migrants": N_("migrants/diaspora"),
    "migrant_women": N_("migrant women"),
    "faith": N_("faith-based"),
    "private_sector": N_("private sector"),
    "trade_union": N_("trade union"),
    "human_rights": N_("human-rights institution"),
    "academia": N_("academia"),
    "media": N_("media"),
    "other": N_("other"),
}
"""The same, short enough for one line per organisation in an 80-organisation list."""

_TABLE_WORDS = re.compile(r"[a-z]+|\d+")
_FILLER = {
    "wt",
    "mt",
    "mesa",
    "mesas",
    "table",
    "tables",
    "working",
    "trabajo",
    "de",
    "y",
    "and",
    "e",
    "the",
    "la",
    "las",
}
_EVERY = {"all", "todas", "todos"}
_PUNCTUATION = re.compile(r"[^\w\s]")
FORMAT = Word(name="format", label="", group="export", keys=("csv", "xlsx"), optional=True)
"""A spreadsheet's format: Excel (``xlsx``, the default) or ``csv``."""


def stakeholder_label(code: str, *, short: bool = False) -> str:
    labels = _SHORT_TYPES if short else STAKEHOLDER_TYPES
    return _(labels[code]) if code in labels else code


def words(text: str) -> str:
    """Typed text reduced to its words: ``¡Sí, acepto!`` -> ``si acepto``."""
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())


def is_yes(text: str) -> bool:
    return words(text) in answer_words("yes")


def parse_working_tables(text: str) -> list[str]:
    """``"1 3"``, ``"WT1, WT3"``, ``"mesa 2 y 4"``, ``"all"`` -> sorted codes; a table that is not a
    Working Table is a :class:`UserError` naming it."""
    chosen: set[str] = set()
    for word in _TABLE_WORDS.findall(fold(text)):
        if word in _EVERY:
            chosen.update(WORKING_TABLES)
        elif word not in _FILLER:
            number = parse_number(word, 0, 999)
            code = f"WT{number}" if number is not None else parse_table_code(word)
            if code not in WORKING_TABLES:
                shown = f"WT{word}" if is_number(word) else word
                raise UserError(
                    esc(
                        _(
                            "“{table}” is not one of the Working Tables: choose among {tables} "
                            "(for example “1 3”)."
                        ).format(table=shown[:20], tables=", ".join(WORKING_TABLES))
                    )
                )
            chosen.add(code)
    return sorted(chosen)


@dataclass(frozen=True, kw_only=True)
class WorkingTables(Argument):
    """Working Tables as members name them (:func:`parse_working_tables`) -> their sorted codes."""

    name: str = "tables"
    label: str = N_("WT1-WT4")
    greedy: bool = True
    default: Any = ()

    def accepts(self, token: str) -> bool:
        try:
            return bool(parse_working_tables(token))
        except UserError:
            return False

    def convert(self, ctx: Context, text: str) -> list[str]:
        return parse_working_tables(text)


def organisation_line(organisation: Organisation) -> str:
    """``Red Migrante (México · sindicato)``, escaped: one short line in long lists."""
    return esc(
        _("{name} ({country} · {type})").format(
            name=organisation.name,
            country=country_name(organisation.country),
            type=stakeholder_label(organisation.stakeholder_type, short=True),
        )
    )


def membership_status(ctx: Context, membership: Membership) -> str:
    """One table of an organisation and where its membership stands (escaped)."""
    when = format_day(membership.decided_at or membership.requested_at, ctx.timezone)
    text = {
        APPROVED: _("{table}: member since {date}"),
        PENDING: _("{table}: request #{id} waiting for the secretaries since {date}"),
        REJECTED: _("{table}: not accepted ({date})"),
        LEFT: _("{table}: left ({date})"),
    }[membership.status].format(table=membership.table_code, id=membership.id, date=when)
    if membership.status == REJECTED and membership.reason:
        text += " — " + membership.reason
    return esc(text)


def organisation_details(organisation: Organisation, account: str = "") -> list[str]:
    """Country, type and (unless erased) contact lines, shared by every card of an organisation;
    ``account`` is the contact's chat account, as markup (see :func:`handlers.roles.account_markup`)."""
    lines = [
        esc(_("Country: {country}").format(country=country_name(organisation.country))),
        esc(_("Type: {type}").format(type=stakeholder_label(organisation.stakeholder_type))),
    ]
    if organisation.contact_name:
        contact = _("Contact: {name} · {email}").format(
            name=organisation.contact_name, email=organisation.contact_email
        )
        lines.append(esc(contact) + (f" · {account}" if account else ""))
    return lines


def organisation_card(ctx: Context, organisation: Organisation) -> str:
    lines = [bold(organisation.name), *organisation_details(organisation)]
    lines += ["", bold(_("Tables"))]
    lines += [f"• {membership_status(ctx, m)}" for m in organisation.memberships] or [esc(_("none"))]
    return "\n".join(lines)


async def own_organisation(ctx: Context) -> Organisation:
    """The sender's organisation, or a :class:`UserError` inviting them to register."""
    async with ctx.db.transaction() as session:
        organisation = await organisations.organisation_of(session, ctx.user)
    if organisation is None:
        raise UserError(
            esc(
                _("You have not registered an organisation. Send {command} to register one.").format(
                    command=command_text(ctx, "register")
                )
            )
        )
    return organisation


def which_table(ctx: Context, english_command: str, tables: Sequence[str]) -> str:
    return esc(
        _("Which table? For example {command}.").format(command=command_text(ctx, english_command, tables[0]))
    )


def table_choice(ctx: Context, english_command: str, tables: Sequence[str]) -> Reply:
    """Asked without a table: the tables it can be about, as buttons."""
    if not tables:
        return ctx.reply(esc(_("There is no table left for that.")))
    buttons = tuple((Button(code, command_text(ctx, english_command, code)),) for code in tables)
    return ctx.reply(which_table(ctx, english_command, tables), buttons=buttons)


# secretaries' tools ----------------------------------------------------------


async def secretary_table(ctx: Context, english_command: str, named: Sequence[str]) -> str:
    """The table a secretary's command is about: the one named, or their only table; checked every time."""
    allowed = await privileged_tables(ctx)
    tables = list(named) or (sorted(allowed) if allowed is not None else [])
    if len(tables) != 1:
        raise UserError(which_table(ctx, english_command, sorted(allowed) if allowed else WORKING_TABLES))
    await ctx.require_secretary(tables[0])
    return tables[0]


@registry.command(
    "members", "miembros", WorkingTables(optional=True), Page(),
    help=N_("A table's member organisations"), privileged=True, guard=require_privileged,
)  # fmt: skip
async def members(ctx: Context, tables: Sequence[str], page: int) -> Reply:
    number = page
    table = await secretary_table(ctx, "members", tables)
    async with ctx.db.transaction() as session:
        rows = await organisations.table_members(session, table)
        waiting = len(await organisations.pending_requests(session, [table]))
    shown, number, pages = page_of(rows, number)
    label = table_label(load_knowledge().tables[table])
    lines = [
        bold(label),
        esc(ngettext("{n} organisation", "{n} organisations", len(rows)).format(n=len(rows))),
        esc(page_line(number, pages)),
    ]
    lines += [f"• {organisation_line(m.organisation)}" for m in shown]
    if waiting:
        lines += [
            "",
            esc(
                ngettext("{n} request waiting: {command}", "{n} requests waiting: {command}", waiting).format(
                    n=waiting, command=command_text(ctx, "pending")
                )
            ),
        ]
    buttons = more_button(command_text(ctx, "members", table), number, pages)
    buttons += ((Button(_("Export to Excel"), command_text(ctx, "export", table)),),) if rows else ()
    return ctx.reply("\n".join(lines), buttons=buttons)


export = registry.command(
    "export", "exportar", WorkingTables(optional=True, greedy=False), FORMAT,
    help=N_("A table's members as a spreadsheet (Excel; add csv for CSV)"), privileged=True, guard=require_privileged,
)  # fmt: skip


@export
async def export_members(ctx: Context, tables: Sequence[str], format: str | None) -> Reply | list[Reply]:
    as_csv = format == "csv"
    table = await secretary_table(ctx, "export", tables)
    async with ctx.db.transaction() as session:
        rows = await organisations.table_members(session, table)
    day = ctx.clock.now().astimezone(ZoneInfo(ctx.timezone)).date().isoformat()
    name = "-".join((table, fold(_("members")), day))
    header, cells = members_table(ctx, rows)
    if as_csv:
        attachment = Attachment(name + ".csv", spreadsheet.to_csv(header, cells), spreadsheet.CSV_TYPE)
    else:
        content = spreadsheet.to_xlsx(f"{table} {_('members')}", header, cells)
        attachment = Attachment(name + ".xlsx", content, spreadsheet.XLSX_TYPE)
    text = ngettext("{n} organisation of {table}.", "{n} organisations of {table}.", len(rows)).format(
        n=len(rows), table=table
    )
    return ctx.reply(esc(text), attachment=attachment)


def members_table(ctx: Context, rows: list[Membership]) -> tuple[list[str], list[list[spreadsheet.Cell]]]:
    """The export's header and rows; times are wall times in the chat's zone."""
    header = [
        _("organisation"),
        _("country"),
        _("type"),
        _("tables"),
        _("contact name"),
        _("e-mail"),
        _("registered at"),
        _("approved at"),
    ]
    zone = ZoneInfo(ctx.timezone)
    cells: list[list[spreadsheet.Cell]] = []
    for membership in rows:
        organisation = membership.organisation
        decided = membership.decided_at
        cells.append(
            [
                organisation.name,
                country_name(organisation.country),
                stakeholder_label(organisation.stakeholder_type),
                " ".join(organisation.tables()),
                organisation.contact_name,
                organisation.contact_email,
                organisation.created_at.astimezone(zone).replace(tzinfo=None),
                decided.astimezone(zone).replace(tzinfo=None) if decided else None,
            ]
        )
    return header, cells


# members' tools --------------------------------------------------------------


@registry.command(
    "organisation", "organizacion", help=N_("My organisation's record and tables"), aliases=("organization",)
)
async def organisation(ctx: Context) -> Reply:
    own = await own_organisation(ctx)
    joined = set(own.tables(APPROVED, PENDING))
    buttons = tuple(
        (Button(_("Join {table}").format(table=code), command_text(ctx, "join", code)),)
        for code in WORKING_TABLES
        if code not in joined
    ) + ((Button(_("Erase my data"), command_text(ctx, "forget")),),)
    return ctx.reply(organisation_card(ctx, own), buttons=buttons)


@registry.command(
    "forget", "olvidar", Text(name="confirmation", label=N_("yes"), optional=True),
    help=N_("Erase my organisation's personal data"),
)  # fmt: skip
async def forget(ctx: Context, confirmation: str | None) -> Reply:
    own = await own_organisation(ctx)
    if not is_yes(confirmation or ""):
        text = _(
            "This erases the contact name, e-mail and chat account stored for {name}. The organisation "
            "stays counted in the tables it belongs to, without them, and I will no longer write to you "
            "about it. This cannot be undone."
        ).format(name=own.name)
        confirm = command_text(ctx, "forget", _("yes"))
        return ctx.reply(esc(text), buttons=((Button(_("Yes, erase my data"), confirm),),))
    async with ctx.db.transaction() as session:
        organisation_row = await organisations.organisation_of(session, ctx.user)
        if organisation_row is None:
            raise UserError(esc(_("There is nothing left to erase.")))
        now = ctx.clock.now()
        await organisations.erase_contact(session, organisation_row, now)
        await erasure.forget_person(session, ctx.user)
        await erase_reporters(session, organisation_row.id)
        await audit.record(session, audit.ERASED_ACTOR, "erase", organisation_row.name, at=now)
    await ctx.end_state()
    ctx.chats.forget_cached(ctx.message)
    return ctx.reply(esc(_("Done: the personal data of {name} were erased.").format(name=own.name)))
