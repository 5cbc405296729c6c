"""Pledges and their reports as a spreadsheet: one row per report (a pledge never reported on
has one row with the report's columns empty), as XLSX and as CSV for Excel."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from handlers.countries import country_name
from handlers.i18n import _
from handlers.members import _cell
from handlers.pledge_report import status_label
from storage.organisations import Organisation
from storage.pledges import Pledge, PledgeReport

Rows = list[tuple[Organisation, Pledge]]
Reports = dict[int, list[tuple[PledgeReport, str]]]


def header() -> list[str]:
    return [
        _("organisation"), _("country"), _("pledge"), _("title"), _("objectives"), _("description"), _("link"),
        _("pledge status"), _("round"), _("reported status"), _("note"), _("reported at"),
    ]


def table(rows: Rows, reports: Reports, zone: str) -> list[list[str]]:
    """The sheet's cells; typed text never runs as a formula."""
    tz = ZoneInfo(zone)
    lines: list[list[str]] = []
    for organisation, pledge in rows:
        base = [
            organisation.name, country_name(organisation.country), str(pledge.number), pledge.title,
            " ".join(map(str, pledge.objectives)), pledge.description, pledge.url or "",
            _("withdrawn") if pledge.status == "withdrawn" else _("active"),
        ]
        given = reports.get(pledge.id) or []
        if not given:
            lines.append([*base, "", "", "", ""])
        for report, period in given:
            when = report.reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            lines.append([*base, period, status_label(report.status), report.note, when])
    return [[_cell(value) for value in line] for line in lines]


def pledges_csv(rows: Rows, reports: Reports, zone: str) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the accents right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header())
    writer.writerows(table(rows, reports, zone))
    return out.getvalue().encode("utf-8-sig")


def pledges_xlsx(rows: Rows, reports: Reports, zone: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Pledges")[:31]
    sheet.append(header())
    for line in table(rows, reports, zone):
        sheet.append(line)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
