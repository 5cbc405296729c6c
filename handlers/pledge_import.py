"""Importing pledges already made, from a CSV or XLSX file (``gcmbot pledges import FILE``, or
the file sent to the bot privately by an administrator).

The first row is the header; its columns, in any order and either language:
``organisation`` (``organizacion``), ``country`` (``pais``, optional: ISO code or name),
``title`` (``titulo``), ``objectives`` (``objetivos``: numbers or words), ``description``
(``descripcion``, optional), ``link`` (``enlace``, optional). Each row names a registered
organisation; a row whose pledge is already on record (same title) is skipped, so importing a
file twice adds nothing. A row that cannot be read is reported by its line number and the rest
is imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.countries import find_country
from handlers.errors import UserError
from handlers.i18n import _
from handlers.knowledge import fold
from handlers.markup import esc
from handlers.message import Attachment, Reply
from handlers.pledge_commands import MAX_DESCRIPTION, MAX_TITLE, objectives_in
from handlers.registry import Registry
from storage import audit, organisations, pledges

registry = Registry()

COLUMNS: dict[str, str] = {
    "organisation": "organisation", "organization": "organisation", "organizacion": "organisation",
    "country": "country", "pais": "country",
    "title": "title", "titulo": "title",
    "objectives": "objectives", "objetivos": "objectives",
    "description": "description", "descripcion": "description",
    "link": "link", "enlace": "link", "url": "link",
}
REQUIRED = ("organisation", "title", "objectives")
MAX_BYTES = 5_000_000


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header)."""


@dataclass
class Outcome:
    added: int = 0
    skipped: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """The file's rows as ``{column: text}``, by the canonical column names."""
    if len(content) > MAX_BYTES:
        raise UnreadableFile(_("The file is too large (5 MB at most)."))
    if filename.lower().endswith(".xlsx"):
        table = _xlsx_cells(content)
    elif filename.lower().endswith(".csv"):
        text = content.decode("utf-8-sig", errors="replace")
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
        table = [row for row in csv.reader(io.StringIO(text), dialect)]
    else:
        raise UnreadableFile(_("Send a .csv or .xlsx file."))
    if not table:
        raise UnreadableFile(_("The file is empty."))
    names = [COLUMNS.get(fold(cell).replace(" ", ""), "") for cell in table[0]]
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise UnreadableFile(_("The header must name the columns {columns}.").format(columns=", ".join(REQUIRED)))
    return [
        {name: cell.strip() for name, cell in zip(names, row, strict=False) if name}
        for row in table[1:]
    ]


def _xlsx_cells(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same clear answer
        raise UnreadableFile(_("I could not read this spreadsheet.")) from error
    sheet = book.worksheets[0]
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


async def import_rows(session: AsyncSession, rows: list[dict[str, str]], by: str, at: datetime) -> Outcome:
    outcome = Outcome()
    for line, row in enumerate(rows, start=2):
        if not any(row.values()):
            continue
        problem = await _import_row(session, row, by, at)
        if problem is None:
            outcome.added += 1
        elif problem == "":
            outcome.skipped += 1
        else:
            outcome.problems.append((line, problem))
    await audit.record(session, by, "pledges.import", "pledges", f"{outcome.added} added", at=at)
    return outcome


async def _import_row(session: AsyncSession, row: dict[str, str], by: str, at: datetime) -> str | None:
    """None when added, "" when already on record, else what is wrong with it."""
    country = find_country(row["country"]).code if row.get("country") else None
    if row.get("country") and country is None:
        return _("unknown country “{country}”").format(country=row["country"][:60])
    found = await organisations.same_name(session, row.get("organisation", ""), country)
    if len(found) != 1:
        return _("no single registered organisation named “{name}”").format(name=row.get("organisation", "")[:100])
    title = row.get("title", "")
    objectives = objectives_in(row.get("objectives", ""))
    if not 3 <= len(title) <= MAX_TITLE or not objectives:
        return _("a title (3 to {max} characters) and objectives are needed").format(max=MAX_TITLE)
    if await pledges.same_pledge(session, found[0].id, title) is not None:
        return ""
    link = row.get("link") or None
    await pledges.add_pledge(
        session, found[0].id, title=title, objectives=objectives, description=row.get("description", "")[:MAX_DESCRIPTION],
        url=link if link and link.startswith(("http://", "https://")) else None, by=by, at=at,
    )
    return None


def outcome_text(outcome: Outcome) -> str:
    lines = [_("Imported {added} pledges; {skipped} were already on record.").format(
        added=outcome.added, skipped=outcome.skipped
    )]
    lines += [_("Line {line}: {problem}").format(line=line, problem=problem) for line, problem in outcome.problems[:30]]
    return "\n".join(lines)


async def import_file(session: AsyncSession, document: Attachment, by: str, at: datetime) -> str:
    """Import a file and say what happened, in the current language."""
    try:
        rows = read_rows(document.filename, document.content)
    except UnreadableFile as error:
        return str(error)
    return outcome_text(await import_rows(session, rows, by, at))


@registry.document
async def document(ctx: Context) -> Reply:
    """A file sent to the bot: administrators import pledges from it, in a private chat."""
    attachment = ctx.message.attachment
    if attachment is None or not ctx.message.private:
        return ctx.reply(esc(_("I only read pledge files sent privately by an administrator.")))
    await ctx.require_admin()
    if not attachment.filename.lower().endswith((".csv", ".xlsx")):
        raise UserError(esc(_("Send a .csv or .xlsx file.")))
    async with ctx.db.transaction() as session:
        text = await import_file(session, attachment, ctx.user, ctx.clock.now())
    return ctx.reply(esc(text))
