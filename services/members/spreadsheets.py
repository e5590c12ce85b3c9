"""Reading an uploaded XLSX ledger: openpyxl's read-only reader for the workbook, a lean one
for the sheet's cells.

openpyxl reads every string (an inline string in the sheet, each entry of the shared-strings
table) by building its rich-text objects (`Text.from_tree`) only to take their plain content,
and every cell through a dict with its coordinate parsed and its style looked up: most of an
XLSX import's reading time. Here the cells' values are read straight from the sheet's XML with
openpyxl's own rules (`WorkSheetParser.parse_cell` in data-only mode: numbers, dates by their
number format, booleans, errors, ISO dates, formulas' cached values, missing cells and rows) and
text as `Text.content` gives it: the `<t>` of a string item and of each rich-text run, phonetic
runs left out. lxml's parser hands over only the elements asked for (`<row>`, `<si>`): with the
standard library's every element of every cell came back through Python. The workbook (sheets,
styles, the epoch) is openpyxl's; tests/test_spreadsheets.py holds the two readers to the same
values.
"""
from warnings import warn

from lxml import etree
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._reader import INLINE_STRING, ROW_TAG, VALUE_TAG
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

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
            text = next(child.iterchildren(TEXT), None)
            if text is not None:
                parts.append(text.text or "")
    return "".join(parts)


def _elements(source, tag):
    """Each `tag` element of an XML stream once it is complete; what came before it is freed,
    so memory stays bounded by one element. No entities resolved, nothing fetched."""
    done = 0
    for _event, element in etree.iterparse(source, events=("end",), tag=tag, resolve_entities=False,
                                           no_network=True, huge_tree=False):
        yield element
        element.clear(keep_tail=False)
        done += 1
        if done % 256 == 0:  # the emptied elements before this one, a few hundred at a time
            del element.getparent()[:-1]


def read_shared_strings(source) -> list[str]:
    """openpyxl's `read_string_table`, without the rich-text objects."""
    return [plain_text(node).replace("x005F_", "") for node in _elements(source, STRING_ITEM)]


class _Reader(ExcelReader):
    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as source:
                self.shared_strings = read_shared_strings(source)


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
        for index, cells in _cells_by_row(source, sheet._shared_strings, book):
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
    width = max_col or cells[-1][0]
    values = [None] * width
    for column, value in cells:
        if 1 <= column <= width:
            values[column - 1] = value
    return tuple(values)


def _cells_by_row(source, shared_strings, book):
    """(row number, [(column, value), ...]) for each `<row>` of a sheet's XML, numbered and
    valued as openpyxl's WorkSheetParser numbers and values them (data only)."""
    date_formats, timedelta_formats, epoch = book._date_formats, book._timedelta_formats, book.epoch
    columns = {}  # column letters -> number
    row_counter = 0
    for element in _elements(source, ROW_TAG):
        number = element.get("r")
        row_counter = _row_number(number) if number else row_counter + 1
        column_counter = 0
        cells = []
        for cell in element:
            coordinate = cell.get("r")
            if coordinate:
                letters = coordinate.rstrip("0123456789")
                column = columns.get(letters)
                if column is None:
                    column = columns[letters] = column_index_from_string(letters)
                column_counter = column
            else:
                column_counter += 1
            data_type = cell.get("t", "n")
            # (iterchildren(tag) filters in C; find() would parse its path in Python each time)
            if data_type == "inlineStr":
                item = next(cell.iterchildren(INLINE_STRING), None)
                value = plain_text(item) if item is not None else None
            else:
                value = next(cell.iterchildren(VALUE_TAG), None)
                value = (value.text or None) if value is not None else None
                if value is not None:
                    if data_type == "n":
                        value = _number_or_date(value, cell, date_formats, timedelta_formats, epoch)
                    elif data_type == "s":
                        value = shared_strings[int(value)]
                    elif data_type == "b":
                        value = bool(int(value))
                    elif data_type == "d":
                        value = from_ISO8601(value)
            cells.append((column_counter, value))
        yield row_counter, cells


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise ValueError(f"{text} is not a valid row number") from None
        return int(number)


def _number_or_date(text, cell, date_formats, timedelta_formats, epoch):
    value = float(text) if "." in text or "E" in text or "e" in text else int(text)
    style_id = cell.get("s", 0)
    if style_id:
        style_id = int(style_id)
    if style_id in date_formats:
        try:
            return from_excel(value, epoch, timedelta=style_id in timedelta_formats)
        except (OverflowError, ValueError):
            warn(f"Cell {cell.get('r')} is marked as a date but the serial value {value} is outside "
                 "the limits for dates. The cell will be treated as an error.", stacklevel=2)
            return "#VALUE!"
    return value
