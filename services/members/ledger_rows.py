"""A ledger file's rows, read and checked: the part of an import that needs no database.

An import reads the file as a stream (`open_table`), takes BATCH_SIZE rows at a time and checks
each like a single registration (`check_rows`): the fields (MemberCreateSchema, through
FastLoad), then the ID number, which is fingerprinted and encrypted; a row that passes becomes
its new member's columns. What only the database can tell (the org units, an ID number
registered already) and what depends on the rows before it (a repeated ID number) is left to
bulk.py. Plain Python: this runs in the members service, or in an import worker process of its
own (import_worker.py) while the service writes the batch before.
"""
import csv
import io
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from marshmallow import ValidationError
from sqlalchemy import select

from services.plumbing.errors import ValidationFailed, fields_from_marshmallow

from . import spreadsheets
from .fast_load import FastLoad
from .models import ImportFileChunk
from .registry import member_values, parse_id_number
from .schemas import IMPORT_COLUMNS, MemberCreateSchema

SPOOL_BYTES = 4 * 1024 * 1024  # an XLSX file (which must be seekable) beyond this goes to disk
LIST_COLUMNS = ("languages", "skills")


class UnreadableFile(Exception):
    """The file is not the CSV or XLSX it claims to be (found while streaming it)."""


# -- reading files as streams -------------------------------------------------------------------
def stored_pieces(open_session, batch_id: str, protector):
    """The staged file, decrypted piece by piece (one short read per piece). No piece at all
    is an error, never an empty file: the file is deleted only with the import's end."""
    seq = 0
    while True:
        with open_session() as session:
            token = session.scalar(select(ImportFileChunk.content).where(
                ImportFileChunk.batch_id == batch_id, ImportFileChunk.seq == seq))
        if token is None:
            if seq == 0:
                raise UnreadableFile("the staged file is not in the database")
            return
        yield protector.unseal(bytes(token))
        seq += 1


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _PieceStream(io.RawIOBase):
    """A binary stream over an iterator of byte strings: one piece in memory at a time."""

    def __init__(self, pieces):
        self._pieces = iter(pieces)
        self._piece = memoryview(b"")

    def readable(self):
        return True

    def readinto(self, buffer):
        while not len(self._piece):
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._piece = memoryview(piece)
        size = min(len(buffer), len(self._piece))
        buffer[:size] = self._piece[:size]
        self._piece = self._piece[size:]
        return size


@contextmanager
def open_table(file_format: str, pieces):
    """Yields (rows, size_hint): rows iterates the file's rows as lists of cell texts, header
    first; size_hint is the row count an XLSX sheet declares (None when it does not, and for
    CSV). A file that turns out unreadable raises UnreadableFile, also midway."""
    if file_format == "csv":
        text = io.TextIOWrapper(io.BufferedReader(_PieceStream(pieces), 1 << 16),
                                encoding="utf-8-sig", newline="")
        yield _guarded(([c.strip() for c in row] for row in csv.reader(text)), "csv"), None
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        for piece in pieces:
            spool.write(piece)
        spool.seek(0)
        try:
            book = spreadsheets.open_workbook(spool)
            sheet = book.worksheets[0]
            size_hint = sheet.max_row if sheet.max_row and sheet.max_row > 1 else None
        except Exception as exc:
            raise UnreadableFile(f"not a readable xlsx file: {type(exc).__name__}") from None
        try:
            yield _guarded(([c.strip() if type(c) is str else _cell(c) for c in row]
                            for row in spreadsheets.sheet_values(book, sheet)),
                           "xlsx"), size_hint
        finally:
            book.close()


def _guarded(rows, file_format):
    try:
        yield from rows
    except UnreadableFile:
        raise
    except Exception as exc:  # any unreadable content: say so, never a 500
        raise UnreadableFile(f"not a readable {file_format} file: {type(exc).__name__}") from None


# -- checking rows ------------------------------------------------------------------------------
def row_body(record: dict) -> dict:
    """A row's cells as a registration's body: empty cells left out, lists split at ';'."""
    body = {}
    for column, value in record.items():
        if value in ("", None):
            continue
        body[column] = [v.strip() for v in value.split(";") if v.strip()] if column in LIST_COLUMNS else value
    return body


class FieldChecker:
    """A row's fields checked like a single registration's body: FastLoad, and the schema
    itself for a row FastLoad does not pass (it gives the messages)."""

    def __init__(self):
        self.schema = MemberCreateSchema()
        self.fast_load = FastLoad(self.schema)

    def check(self, body: dict) -> tuple[dict, str]:
        """(data, normalised ID number) or raises ValidationFailed with every field's messages."""
        data = self.fast_load(body)
        if data is None:
            try:
                data = self.schema.load(body)
            except ValidationError as exc:
                problems = fields_from_marshmallow(exc.messages)
                if "id_number" not in problems and body.get("id_number"):
                    problems.update(_number_problem(body["id_number"]) or {})
                raise ValidationFailed("invalid input", problems) from None
        return data, parse_id_number(data["id_number"])


def _number_problem(raw):
    try:
        parse_id_number(raw)
    except ValidationFailed as exc:
        return exc.fields
    return None


@dataclass
class CheckedRows:
    """One batch of a file's rows, checked as far as it can be without the database."""
    size: int                      # rows read, blank ones included (they keep the numbering)
    over_limit: bool = False       # the file goes on past the import's row limit
    invalid: list = field(default_factory=list)  # (row number, cell values, field messages)
    passed: list = field(default_factory=list)   # (row number, cell values, member columns)


def check_rows(columns: list, first_row: int, rows: list, protector, batch_id: str,
               checker: FieldChecker | None = None) -> CheckedRows:
    """Checks rows numbered from `first_row` (the header is row 1). A row that passes carries
    its new member's columns, ID number fingerprinted and encrypted; its org units are checked
    later (bulk.prepare_rows), and so is a repeated ID number."""
    header = [h.strip().lower() for h in columns]
    wanted = [(i, h) for i, h in enumerate(header) if h in IMPORT_COLUMNS]
    checker = checker or FieldChecker()
    checked = CheckedRows(size=len(rows))
    for offset, values in enumerate(rows):
        if not any(values):
            continue  # a blank line keeps the row numbers right but is skipped
        row_number = first_row + offset
        body = row_body({h: (values[i] if i < len(values) else "") for i, h in wanted})
        try:
            data, number = checker.check(body)
        except ValidationFailed as exc:
            checked.invalid.append((row_number, values, exc.fields))
            continue
        member = member_values(data, number, data["home_org_id"], data.get("host_org_id") or None,
                               protector, protector.fingerprint(number),
                               import_batch_id=batch_id, import_row=row_number)
        checked.passed.append((row_number, values, member))
    return checked


@dataclass
class ImportJob:
    """What reading and checking one import's file needs besides the file and the keys."""
    file_format: str
    columns: list       # the header, as the upload found it
    skip_rows: int      # rows imported already (a resumed import)
    batch_id: str
    batch_size: int
    max_rows: int
    total_rows: int = 0  # as the upload counted them (0: not known)


RAMP_ROWS = 250  # the smallest batch of the ramps (see batch_sizes)


def batch_sizes(job: ImportJob):
    """How many rows each batch takes: `job.batch_size`, but the first ones smaller (250, 500,
    1,000, …) and so the last ones when the row count is known (…, 500, 250): the service
    waits for the first batch to be checked, and only it works on the last one, so small
    batches there keep the two processes busy together for longer."""
    floor = min(job.batch_size, RAMP_ROWS)
    ramp_up, done = floor, job.skip_rows
    while True:
        size = min(job.batch_size, ramp_up)
        if job.total_rows:
            size = min(size, max(floor, (job.total_rows - done) // 2))
        yield size
        done += size
        ramp_up *= 2


def checked_batches(job: ImportJob, pieces, protector):
    """The file's rows after the header and the rows done, checked in batches (CheckedRows of
    `batch_sizes`; one with over_limit when the file goes on past `job.max_rows`). Raises
    UnreadableFile where the file turns out unreadable."""
    checker = FieldChecker()
    with open_table(job.file_format, pieces) as (rows, _size_hint):
        next(rows, None)  # the header, checked when the upload finished
        rows = islice(rows, job.skip_rows, None)
        first_row = job.skip_rows + 2
        for size in batch_sizes(job):
            chunk = list(islice(rows, size))
            if not chunk:
                return
            if first_row - 2 + len(chunk) > job.max_rows:
                yield CheckedRows(size=len(chunk), over_limit=True)
                return
            yield check_rows(job.columns, first_row, chunk, protector, job.batch_id, checker)
            first_row += len(chunk)
