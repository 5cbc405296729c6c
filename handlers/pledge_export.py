"""Pledges and their reports as a spreadsheet (see :mod:`handlers.spreadsheet`): one row per
report; a pledge never reported on has one row with the report's columns empty."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers import spreadsheet
from handlers.countries import country_name
from handlers.i18n import _
from handlers.pledge_report import status_label
from storage.organisations import Organisation
from storage.pledges import WITHDRAWN, Pledge, PledgeReport

Rows = list[tuple[Organisation, Pledge]]
Reports = dict[int, list[tuple[PledgeReport, str]]]


def header() -> list[str]:
    return [
        _("organisation"), _("country"), _("pledge"), _("title"), _("objectives"), _("description"), _("link"),
        _("pledge status"), _("round"), _("reported status"), _("note"), _("reported at"),
    ]


def table(rows: Rows, reports: Reports, zone: str) -> list[list[spreadsheet.Cell]]:
    """The sheet's cells; times are wall times in the chat's zone."""
    tz = ZoneInfo(zone)
    lines: list[list[spreadsheet.Cell]] = []
    for organisation, pledge in rows:
        base: list[spreadsheet.Cell] = [
            organisation.name, country_name(organisation.country), str(pledge.number), pledge.title,
            " ".join(map(str, pledge.objectives)), pledge.description, pledge.url or "",
            _("withdrawn") if pledge.status == WITHDRAWN else _("active"),
        ]
        given = reports.get(pledge.id) or []
        if not given:
            lines.append([*base, "", "", "", None])
        for report, period in given:
            when = report.reported_at.astimezone(tz).replace(tzinfo=None)
            lines.append([*base, period, status_label(report.status), report.note, when])
    return lines


def pledges_csv(rows: Rows, reports: Reports, zone: str) -> bytes:
    return spreadsheet.to_csv(header(), table(rows, reports, zone))


def pledges_xlsx(rows: Rows, reports: Reports, zone: str) -> bytes:
    return spreadsheet.to_xlsx(_("Pledges"), header(), table(rows, reports, zone))
