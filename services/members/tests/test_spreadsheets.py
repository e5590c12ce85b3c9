"""The import's XLSX reader gives exactly the values openpyxl's read-only reader gives, on
sheets with inline strings (as openpyxl and many tools write them) and with a shared-strings
table (as Excel and WPS write them: rich-text runs, phonetic runs, escapes)."""
import io
import re
import zipfile
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from services.members.spreadsheets import open_workbook, sheet_values


def both_readers(data: bytes):
    expected = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    book = open_workbook(io.BytesIO(data))
    try:
        return (list(expected.worksheets[0].iter_rows(values_only=True)),
                list(sheet_values(book, book.worksheets[0])))
    finally:
        expected.close()
        book.close()


def workbook_bytes(fill) -> bytes:
    book = Workbook()
    fill(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_inline_strings_numbers_dates_and_gaps_read_as_openpyxl_reads_them():
    def fill(sheet):
        sheet.append(["name", "id_number", "phone", "joined", "count", "ok", "note"])
        sheet.append(["李四", "110101199003071234", 13800001234, date(2020, 5, 1), 3.0, True, None])
        sheet.append([" 王 五 ", "11010119900307123X", "138 0000 1234", datetime(2019, 1, 2, 8, 30),
                      2.5, False, "=1+1"])
        sheet["B6"] = "after a gap"
        sheet["J6"] = "wider"
        sheet["A7"] = CellRichText(["富", TextBlock(InlineFont(b=True), "文本")])
        sheet["A8"] = ""

    expected, fast = both_readers(workbook_bytes(fill))
    assert fast == expected and len(fast) == 8


def with_shared_strings(data: bytes, strings_xml: str, cells: dict[str, str]) -> bytes:
    """An openpyxl file rewritten as Excel writes it: cells `cells` (reference → index into the
    shared-strings table) replace the sheet's data."""
    rows = {}
    for ref, index in cells.items():
        rows.setdefault(int(re.sub(r"[A-Z]", "", ref)), []).append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
    sheet_data = "".join(f'<row r="{n}">{"".join(cs)}</row>' for n, cs in sorted(rows.items()))
    return with_sheet_data(data, sheet_data, strings_xml)


def test_a_shared_strings_table_reads_as_openpyxl_reads_it():
    strings = [
        "<si><t>name</t></si>",
        '<si><t xml:space="preserve">  张 三  </t></si>',
        "<si><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r></si>",
        "<si><t>ルビ</t><rPh sb=\"0\" eb=\"2\"><t>るび</t></rPh><phoneticPr fontId=\"1\"/></si>",
        "<si><t>a_x005F_x000D_b</t></si>",
        "<si><t/></si>",
        "<si><t>ཚེ་རིང་</t></si>",
    ]
    strings_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   f'count="{len(strings)}" uniqueCount="{len(strings)}">{"".join(strings)}</sst>')
    cells = {"A1": "0", "B1": "6", "A2": "1", "C2": "2", "A4": "3", "B4": "4", "C4": "5"}
    data = with_shared_strings(workbook_bytes(lambda sheet: sheet.append(["x"])), strings_xml,
                               cells)
    expected, fast = both_readers(data)
    assert fast == expected
    assert fast[1] == ("  张 三  ", None, "富文本") and fast[0][1] == "ཚེ་རིང་"


def with_sheet_data(data: bytes, sheet_data: str, strings_xml: str | None = None) -> bytes:
    """An openpyxl file with its sheet's cells replaced by `sheet_data` (the `<row>`s, as other
    tools write them), no declared dimension, and the shared-strings table `strings_xml`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb"<sheetData>.*</sheetData>|<sheetData ?/>",
                                 f"<sheetData>{sheet_data}</sheetData>".encode(), content, flags=re.S)
                content = re.sub(rb'<dimension ref="[^"]*" ?/>', b"", content)
            elif strings_xml and item.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", (
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
            elif strings_xml and item.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", (
                    b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    b"</Relationships>"))
            target.writestr(item, content)
        if strings_xml:
            target.writestr("xl/sharedStrings.xml", strings_xml)
    return out.getvalue()


def test_cells_of_every_kind_read_as_openpyxl_reads_them():
    # A date written by openpyxl gives the workbook a date style (s="1"), used below.
    data = workbook_bytes(lambda sheet: sheet.append([date(2020, 5, 1)]))
    sheet_data = (
        '<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="b"><v>0</v></c>'
        '<c r="C1" t="e"><v>#N/A</v></c><c r="D1" t="str"><f>A1&amp;"x"</f><v>TRUEx</v></c>'
        '<c r="E1" t="d"><v>2020-01-02T03:04:05</v></c><c r="F1"><v>1.5E3</v></c>'
        '<c r="G1"><v>-12</v></c><c r="H1"><v>0.25</v></c><c r="I1"><f>1+1</f></c></row>'
        '<row r="3"><c r="A3" s="1"><v>43952</v></c><c r="B3" s="1"><v>43952.5</v></c>'
        '<c r="C3" s="1"><v>99999999</v></c><c r="D3" t="inlineStr"><is><t>内联</t></is></c>'
        '<c r="E3" t="inlineStr"></c><c r="F3"><v></v></c></row>'
        '<row><c><v>7</v></c><c><v>8</v></c><c r="E4"><v>9</v></c><c><v>10</v></c></row>'
        '<row r="6.0" spans="1:3"><c r="AB6" t="str"><v>far</v></c></row>'
        '<row r="7"></row>'
    )
    expected, fast = both_readers(with_sheet_data(data, sheet_data))
    assert fast == expected
    assert fast[0][:3] == (True, False, "#N/A") and fast[2][0] == datetime(2020, 5, 1)
    assert fast[3][:6] == (7, 8, None, None, 9, 10) and fast[5][27] == "far"
