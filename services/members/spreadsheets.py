"""Reading an uploaded XLSX ledger: openpyxl's read-only reader, except for text.

openpyxl reads every string (an inline string in the sheet, each entry of the shared-strings
table) by building its rich-text objects (`Text.from_tree`) only to take their plain content:
about half of its time per cell. Here the same content is read straight from the XML: the
cell's or entry's `<t>` and the `<t>` of each rich-text run, phonetic runs left out, as
`Text.content` does. Everything else (numbers, dates by their number format, booleans, errors,
formulas, missing cells and rows) is openpyxl's own code; tests/test_spreadsheets.py holds the
two readers to the same values.
"""
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

TEXT = f"{{{SHEET_MAIN_NS}}}t"
RUN = f"{{{SHEET_MAIN_NS}}}r"
STRING_ITEM = f"{{{SHEET_MAIN_NS}}}si"


def plain_text(node) -> str:
    """The text of a string item (`<si>` or `<is>`): its own `<t>` and its runs' `<t>`."""
    parts = []
    for child in node:
        if child.tag == TEXT:
            parts.append(child.text or "")
        elif child.tag == RUN:
            text = child.find(TEXT)
            if text is not None:
                parts.append(text.text or "")
    return "".join(parts)


def read_shared_strings(source) -> list[str]:
    """openpyxl's `read_string_table`, without the rich-text objects."""
    strings = []
    for _event, node in iterparse(source):
        if node.tag == STRING_ITEM:
            strings.append(plain_text(node).replace("x005F_", ""))
            node.clear()
    return strings


class _Reader(ExcelReader):
    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as source:
                self.shared_strings = read_shared_strings(source)


class _SheetParser(WorkSheetParser):
    def parse_cell(self, element):
        if element.get("t") != "inlineStr" or (
                not self.data_only and element.find(FORMULA_TAG) is not None):
            return super().parse_cell(element)
        # An inline string, placed as openpyxl places a cell: by its reference, or next.
        coordinate = element.get("r")
        style_id = int(element.get("s", 0) or 0)
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        value, data_type = None, "inlineStr"
        item = element.find(INLINE_STRING)
        if item is not None:
            value, data_type = plain_text(item), "s"
        return {"row": row, "column": column, "value": value, "data_type": data_type,
                "style_id": style_id}


def open_workbook(stream):
    """`load_workbook(stream, read_only=True, data_only=True)`, with the faster string table."""
    reader = _Reader(stream, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def sheet_values(book, sheet):
    """The sheet's rows as tuples of values, as `sheet.iter_rows(values_only=True)` gives them:
    each padded to the sheet's declared width, missing rows given as empty ones."""
    max_col, max_row = sheet.max_column, sheet.max_row
    empty_row = (None,) * max_col if max_col is not None else []  # as openpyxl: a list then
    expected = 1
    index = 0
    with sheet._get_source() as source:
        parser = _SheetParser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                              date_formats=book._date_formats,
                              timedelta_formats=book._timedelta_formats)
        for index, cells in parser.parse():
            if max_row is not None and index > max_row:
                break
            while expected < index:
                expected += 1
                yield empty_row
            if expected <= index:
                expected += 1
                yield _padded(cells, max_col)
    if max_row is not None and max_row < index:
        for _ in range(expected, max_row + 1):
            yield empty_row


def _padded(cells, max_col):
    if not cells and not max_col:
        return ()
    width = max_col or cells[-1]["column"]
    values = [None] * width
    for cell in cells:
        if 1 <= cell["column"] <= width:
            values[cell["column"] - 1] = cell["value"]
    return tuple(values)
