"""The one writer of every export (members' ledger, a campaign's ledger, the desk's tracking
ledger and monthly register): a header and rows as a CSV or XLSX file, sent over RPC as
{filename, content_type, rows, content_base64}; the gateway answers it as a file download.

Cells: None is an empty cell; a Decimal is money, written as text exact to the fen (a
spreadsheet number is a binary float); a bool is yes/no; a date or an aware datetime is ISO
8601. A datetime keeps the offset the caller gave it: a service converts its moments to Beijing
time first, as the people reading these files count in it.
"""
import base64
import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from .money import to_wire

CSV, XLSX = "csv", "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)


def cell(value):
    """A value as a file cell (None stays None: an empty cell)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return to_wire(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("an exported moment needs its offset (convert it to Beijing time)")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def write(file_format: str, header: Sequence[str], rows: Iterable[Sequence],
          sheet_title: str = "Sheet1") -> tuple[bytes, int]:
    """The file's bytes and the number of data rows. CSV is UTF-8 with a byte-order mark:
    Excel opens Chinese text correctly only with it."""
    count = 0
    if file_format == CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if value is None else value for value in map(cell, row)])
            count += 1
        return buffer.getvalue().encode("utf-8-sig"), count
    if file_format == XLSX:
        from openpyxl import Workbook
        book = Workbook(write_only=True)
        sheet = book.create_sheet(sheet_title[:31])  # Excel's limit on a sheet's name
        sheet.append(list(header))
        for row in rows:
            sheet.append([cell(value) for value in row])
            count += 1
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue(), count
    raise ValueError(f"no such export format: {file_format}")


def export_file(file_format: str, filename_stem: str, header: Sequence[str],
                rows: Iterable[Sequence], sheet_title: str = "Sheet1") -> dict:
    """The file as it crosses RPC (nameko speaks JSON: the bytes go as base64)."""
    content, count = write(file_format, header, rows, sheet_title)
    return {"filename": f"{filename_stem}.{file_format}",
            "content_type": CONTENT_TYPES[file_format], "rows": count,
            "content_base64": base64.b64encode(content).decode("ascii")}
