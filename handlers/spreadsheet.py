"""Tables of text and times as files secretaries open in a spreadsheet.

``.xlsx`` (the default) keeps text as text and times as times in any Excel or LibreOffice;
``.csv`` is for other tools: UTF-8 with a byte-order mark (accents) and ``;`` between fields,
the separator Excel expects where the decimal mark is a comma (Argentina, Brazil, Chile,
Colombia, …), so the file opens in columns there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

Cell = str | datetime | None

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"
CSV_SEPARATOR = ";"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TIME_FORMAT = "yyyy-mm-dd hh:mm"


def to_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """One sheet: a bold, frozen header, then the rows; typed text is always text, never a formula.

    openpyxl is imported here, on the first export: it weighs some 30 MiB a bot that never
    exports should not carry (bench/idle_rss.py)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for column, name in enumerate(header, 1):
        sheet.cell(1, column, name).font = Font(bold=True)
    widths = [len(name) for name in header]
    for number, row in enumerate(rows, 2):
        for column, value in enumerate(row, 1):
            cell = sheet.cell(number, column)
            if isinstance(value, datetime):
                cell.value, cell.number_format = value, _TIME_FORMAT
            elif value:
                cell.value = value
                cell.data_type = "s"
            widths[column - 1] = max(widths[column - 1], len(_text(value)))
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_SEPARATOR)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def _text(value: Cell) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value or ""


def _csv_cell(value: Cell) -> str:
    """Typed text never runs as a spreadsheet formula."""
    text = _text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
