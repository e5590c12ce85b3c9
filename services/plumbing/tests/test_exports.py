"""The shared export writer: one header, rows of cells, CSV (with a BOM) or XLSX."""
import base64
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from services.plumbing import exports

ROW = ("x", None, Decimal("490982.52"), True, date(2026, 10, 1),
       datetime(2026, 10, 1, 2, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai")), 3)
WRITTEN = ["x", "", "490982.52", "yes", "2026-10-01", "2026-10-01T10:00:00+08:00", "3"]


def test_csv_has_a_bom_the_header_and_exact_text_cells():
    exported = exports.export_file("csv", "ledger", list("abcdefg"), [ROW])
    assert (exported["filename"], exported["content_type"], exported["rows"]) == (
        "ledger.csv", "text/csv; charset=utf-8", 1)
    raw = base64.b64decode(exported["content_base64"])
    assert raw.startswith("\ufeff".encode("utf-8"))
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig")))) == [list("abcdefg"), WRITTEN]


def test_xlsx_keeps_money_as_text_and_leaves_none_empty():
    exported = exports.export_file("xlsx", "ledger", list("abcdefg"), iter([ROW]), "台账")
    book = load_workbook(io.BytesIO(base64.b64decode(exported["content_base64"])))
    assert book.sheetnames == ["台账"]
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert rows == [list("abcdefg"), ["x", None, "490982.52", "yes", "2026-10-01",
                                      "2026-10-01T10:00:00+08:00", 3]]


def test_a_moment_without_its_offset_or_an_unknown_format_is_refused():
    with pytest.raises(ValueError):
        exports.write("csv", ["a"], [(datetime(2026, 10, 1),)])
    with pytest.raises(ValueError):
        exports.write("pdf", ["a"], [])
