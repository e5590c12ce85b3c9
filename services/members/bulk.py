"""Bulk import of members from CSV or XLSX, and the ledger export. Plain Python, no nameko.

Import, in steps, so that no single RPC message carries a whole file (an upload may be 32 MiB,
and every hop would hold it in memory at once):
1. `open_upload`: the gateway announces the file (format or file name, size, SHA-256) and gets
   an import in status `uploading`; the same Idempotency-Key and file give the first import back;
2. `append_chunk`: the file in pieces of at most CHUNK_BYTES, each stored encrypted (the file
   holds full ID numbers) in `import_file_chunks`;
3. `finish_upload`: the file is read as a stream: the header is checked and CSV rows counted, so
   an unreadable file is a 400 at once; then `member_import_requested` is emitted.
The handler (`run_import`) streams the rows again and imports them BATCH_SIZE at a time, each
batch one transaction that also moves the progress on, so a crashed run resumes after the last
committed batch. A batch is read and checked like single registrations as far as no database is
needed (ledger_rows.py; in an import worker process, import_worker.py, while this process
writes the batch before), then checked against the org units and the rows before, its history
and events built (`prepare_rows`), then written (`import_rows`); on PostgreSQL the next batch
is prepared while one is written. Every row that is not imported (invalid, a duplicate of an
earlier row of the file, or of a registered member) is stored on its own with its values,
encrypted, for the report and the error file (`error_file`), which has the file's own columns
plus `source_row` and `reason` and can be fixed and imported again. The staged file is deleted
when the import ends.
"""
import base64
import binascii
import hashlib
import json
import queue
import threading
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from services.plumbing import exports, phones
from services.plumbing.bulk_insert import insert_rows
from services.plumbing.caller import Caller
from services.plumbing.db import Transaction, is_postgresql
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, NotFound, ValidationFailed
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.pagination import as_utc
from services.plumbing.validation import load

from . import events, ledger_rows
from .import_worker import ImportWorkers
from .ledger_rows import CheckedRows, ImportJob, UnreadableFile, open_table, stored_pieces
from .models import FlowRecord, ImportBatch, ImportFileChunk, ImportRowProblem, Member, OrgUnit
from .orgs import caller_path, get_org, plausible_id
from .registry import check_orgs, filtered_members_query, registration_values
from .schemas import (
    ERROR_FILE_COLUMNS,
    EXPORT_ONLY_COLUMNS,
    IMPORT_COLUMNS,
    ImportFileSchema,
    ImportOpenSchema,
    MemberExportQuerySchema,
)

CHUNK_BYTES = 1024 * 1024  # the most one staging RPC carries (before base64)
BATCH_SIZE = 2000          # rows per transaction of the background import (about 0.4 s; the
                           # first and last ones fewer: ledger_rows.batch_sizes)
PAUSE_ROWS = 10            # rows prepared between two pauses while a write waits (_Ahead)
EVENT_ROWS = 200           # events made (and checked against their contract) at once
MAX_ROWS = 100000
EXPORT_LIMIT = 100000
REPORT_LIMIT = 1000        # problems listed inline in an import's JSON view; the file has all
REQUIRED_COLUMNS = ("name", "id_number", "phone", "home_org_id")
# What an export or an error file carries besides the import's own columns: read past.
IGNORED_COLUMNS = EXPORT_ONLY_COLUMNS + ERROR_FILE_COLUMNS
INVALID, DUPLICATE_IN_FILE, ALREADY_REGISTERED = "invalid", "duplicate_in_file", "already_registered"


def check_header(values) -> list[str]:
    """The header's column names (lower case); a 400 naming unknown, missing or doubled ones."""
    header = [(h or "").strip().lower() for h in values or []]
    unknown = [h for h in header if h and h not in IMPORT_COLUMNS and h not in IGNORED_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    doubled = sorted({h for h in header if h and header.count(h) > 1})
    if unknown or missing or doubled or not header:
        messages = ([f"unknown column {h}" for h in unknown] + [f"missing column {c}" for c in missing]
                    + [f"column {h} appears more than once" for h in doubled])
        raise ValidationFailed("bad header row", {"header": messages or ["the file has no header row"]})
    return header


# -- uploading ----------------------------------------------------------------------------------
def file_format_of(data: dict) -> str:
    if data.get("format"):
        return data["format"]
    name = (data.get("filename") or "").lower()
    for extension in ("csv", "xlsx"):
        if name.endswith("." + extension):
            return extension
    raise ValidationFailed("invalid input", {"format": [
        "give the format (csv or xlsx) or a file name ending in .csv or .xlsx"]})


def open_upload(tx: Transaction, caller: Caller, body: dict, file: dict,
                idempotency_key: str | None = None) -> ImportBatch:
    """A new import waiting for its file; with an Idempotency-Key already used for the same
    file, that first import (a retried upload imports nothing twice); for another file, a 409."""
    data = {**load(ImportOpenSchema, body), **load(ImportFileSchema, file)}
    file_format = file_format_of(data)
    if idempotency_key:
        earlier = tx.session.scalar(select(ImportBatch).where(
            ImportBatch.actor_key_id == caller.key_id, ImportBatch.idempotency_key == idempotency_key))
        if earlier is not None:
            if earlier.file_sha256 != data["sha256"]:
                raise Conflict("this Idempotency-Key was used for another upload", {
                    "Idempotency-Key": ["already used for another file; use a new key"]})
            if earlier.status != "uploading":
                return earlier
            _drop(tx.session, earlier)  # an upload that broke off: this one starts it again
            tx.session.flush()
    batch = ImportBatch(id=str(uuid.uuid4()), org_id=caller.org_id, actor_key_id=caller.key_id,
                        actor_role=caller.role, status="uploading", file_format=file_format,
                        filename=data.get("filename"), file_size=data["size"],
                        file_sha256=data["sha256"], received_bytes=0,
                        idempotency_key=idempotency_key, total_rows=0, processed_rows=0,
                        imported=0, duplicates=0, invalid=0, created_at=utcnow())
    tx.session.add(batch)
    tx.session.flush()
    return batch


def _uploading(session: Session, caller: Caller, batch_id: str) -> ImportBatch:
    batch = get_batch(session, caller, batch_id, for_update=True)
    if batch.status != "uploading":
        raise Conflict("this import has its file already", {"status": [batch.status]})
    return batch


def append_chunk(tx: Transaction, caller: Caller, batch_id: str, seq: int, content_base64: str,
                 protector) -> ImportBatch:
    batch = _uploading(tx.session, caller, batch_id)
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationFailed("invalid input", {"content_base64": ["not base64"]}) from None
    expected = tx.session.scalar(select(func.count()).where(ImportFileChunk.batch_id == batch.id))
    if seq != expected or not content or len(content) > CHUNK_BYTES:
        raise ValidationFailed("invalid input", {"seq": [
            f"piece {expected} of at most {CHUNK_BYTES} bytes expected next"]})
    if batch.received_bytes + len(content) > batch.file_size:
        raise ValidationFailed("invalid input", {"content_base64": [
            f"more than the announced {batch.file_size} bytes"]})
    tx.session.add(ImportFileChunk(batch_id=batch.id, seq=seq, content=protector.seal(content)))
    batch.received_bytes += len(content)
    return batch


def finish_upload(tx: Transaction, caller: Caller, batch_id: str, protector) -> ImportBatch:
    """Checks the whole file as a stream (header; for CSV every row) and queues the import."""
    batch = _uploading(tx.session, caller, batch_id)
    if batch.received_bytes != batch.file_size:
        raise ValidationFailed("incomplete upload", {"file": [
            f"{batch.received_bytes} of {batch.file_size} bytes received"]})
    pieces = stored_pieces(lambda: nullcontext(tx.session), batch.id, protector)
    try:
        with open_table(batch.file_format, pieces) as (rows, size_hint):
            header = next(rows, None)
            if header is None:
                raise ValidationFailed("empty file", {"file": ["the file has no header row"]})
            check_header(header)
            total = sum(1 for _ in rows) if batch.file_format == "csv" else (size_hint or 1) - 1
    except UnreadableFile as exc:
        raise ValidationFailed("the file cannot be read", {"file": [str(exc)]}) from None
    if total > MAX_ROWS:
        raise ValidationFailed("too many rows", {"file": [f"at most {MAX_ROWS} rows per file"]})
    batch.columns = [h.strip() for h in header]
    batch.total_rows, batch.status = total, "queued"
    tx.emit(events.member_import_requested(batch))
    return batch


def discard_upload(tx: Transaction, caller: Caller, batch_id: str) -> None:
    """An upload the gateway could not complete leaves nothing behind."""
    _drop(tx.session, _uploading(tx.session, caller, batch_id))


def _drop(session: Session, batch: ImportBatch) -> None:
    session.execute(delete(ImportFileChunk).where(ImportFileChunk.batch_id == batch.id))
    session.delete(batch)


def start_import(tx: Transaction, caller: Caller, body: dict, protector) -> ImportBatch:
    """The whole JSON form in one call (a small file): {format, content_base64}."""
    body = dict(body)
    encoded = body.pop("content_base64", None)
    try:
        content = base64.b64decode(encoded or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationFailed("invalid input", {"content_base64": ["not base64"]}) from None
    if not content:
        raise ValidationFailed("invalid input", {"content_base64": ["the file is empty"]})
    batch = open_upload(tx, caller, body, {"size": len(content),
                                           "sha256": hashlib.sha256(content).hexdigest()})
    for seq, start in enumerate(range(0, len(content), CHUNK_BYTES)):
        append_chunk(tx, caller, batch.id, seq,
                     base64.b64encode(content[start:start + CHUNK_BYTES]).decode(), protector)
    tx.session.flush()
    return finish_upload(tx, caller, batch.id, protector)


# -- importing ----------------------------------------------------------------------------------
@dataclass
class _Prepared:
    """A batch of rows checked and turned into what the import writes, all but what only the
    write can tell: which ID numbers are registered already."""
    problems: list  # the rows not imported so far
    valid: dict     # fingerprint -> (row number, values, member columns, history record, event)


def _problem(batch_id, row_number, values, kind, fields=None, duplicate_of_row=None, member_id=None):
    return {"batch_id": batch_id, "row_number": row_number, "kind": kind, "fields": fields,
            "duplicate_of_row": duplicate_of_row, "member_id": member_id, "values": values}


def prepare_rows(session: Session, batch_id: str, caller: Caller, checked: CheckedRows,
                 pause=None) -> _Prepared:
    """A batch of checked rows (ledger_rows.check_rows) checked for what needs the database
    or the rows before (the org units of each, a repeated ID number), and each valid row's
    history record and event built. `session` only reads org units (rarely: they are cached).
    `pause` (if given) is called now and then, so that the import's write of the batch before,
    waiting for the database, can go on."""
    problems = [_problem(batch_id, row_number, values, INVALID, fields=fields)
                for row_number, values, fields in checked.invalid]
    orgs = {}   # (home, host) -> None when both are fine, or the ValidationFailed
    valid = {}  # fingerprint -> (row number, values, member columns, history record)
    records = {}  # one history record per (status, host); it differs only by member
    for position, (row_number, values, member) in enumerate(checked.passed):
        if pause and position % PAUSE_ROWS == PAUSE_ROWS - 1:
            pause()
        pair = (member["home_org_id"], member["host_org_id"])
        if pair not in orgs:
            try:
                check_orgs(session, caller, *pair)
                orgs[pair] = None
            except ValidationFailed as exc:
                orgs[pair] = exc
        if orgs[pair] is not None:
            problems.append(_problem(batch_id, row_number, values, INVALID, fields=orgs[pair].fields))
            continue
        fingerprint = member["id_number_hash"]
        if fingerprint in valid:
            problems.append(_problem(batch_id, row_number, values, DUPLICATE_IN_FILE,
                                     duplicate_of_row=valid[fingerprint][0]))
            continue
        key = (member["status"], member["host_org_id"])
        if key not in records:
            records[key] = registration_values(None, *key, caller)
        valid[fingerprint] = (row_number, values, member, {**records[key], "member_id": member["id"]})
    prepared = {}
    fingerprints = list(valid)
    for start in range(0, len(fingerprints), EVENT_ROWS):
        if pause:
            pause()
        part = fingerprints[start:start + EVENT_ROWS]
        for fingerprint, event in zip(part, events.members_registered([valid[f][2] for f in part]),
                                      strict=True):
            prepared[fingerprint] = (*valid[fingerprint], event)
    return _Prepared(problems=problems, valid=prepared)


def import_rows(tx: Transaction, batch: ImportBatch, prepared: _Prepared, protector) -> dict:
    """Writes one prepared batch: its members (those not registered already), their history
    and events, and a problem row for each row not imported; returns the counts."""
    session = tx.session
    caller = Caller.recorded(batch.actor_key_id, batch.actor_role, batch.org_id)
    valid, problems = dict(prepared.valid), list(prepared.problems)
    # One query for the whole batch: which ID numbers are registered already, and by whom.
    registered = session.execute(select(
        Member.id_number_hash, Member.id, Member.import_batch_id, Member.import_row,
        Member.home_org_id, Member.host_org_id).where(
        Member.id_number_hash.in_(list(valid)))).all() if valid else []
    for hit in registered:
        row_number, values = valid.pop(hit.id_number_hash)[:2]
        if hit.import_batch_id == batch.id:
            problems.append(_problem(batch.id, row_number, values, DUPLICATE_IN_FILE,
                                     duplicate_of_row=hit.import_row))
        else:
            visible = _visible(session, caller, hit.home_org_id, hit.host_org_id)
            problems.append(_problem(batch.id, row_number, values, ALREADY_REGISTERED,
                                     member_id=hit.id if visible else None))
    imported = list(valid.values())
    if imported:
        # Straight to the driver: SQLAlchemy's parameter handling cost as much as the rest.
        insert_rows(session, Member.__table__, [member for _n, _v, member, _r, _e in imported])
        insert_rows(session, FlowRecord.__table__, [record for _n, _v, _m, record, _e in imported])
        tx.emit_all([event for _n, _v, _m, _r, event in imported])
    invalid = sum(1 for entry in problems if entry["kind"] == INVALID)
    if problems:
        session.execute(insert(ImportRowProblem.__table__), [
            {**{k: v for k, v in entry.items() if k != "values"},
             "values_encrypted": protector.encrypt(_json_list(entry["values"]))} for entry in problems])
    session.flush()
    return {"imported": len(imported), "duplicates": len(problems) - invalid, "invalid": invalid}


def _json_list(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _visible(session: Session, caller: Caller, *org_ids) -> bool:
    prefix = caller_path(session, caller)
    if prefix is None:
        return True
    for org_id in org_ids:
        org = get_org(session, org_id)
        if org is not None and org.path.startswith(prefix):
            return True
    return False


def run_import(uow, event, batch_id: str, protector, workers: ImportWorkers | None = None) -> None:
    """The handler's work: the file streamed from its staged pieces, BATCH_SIZE rows per
    transaction that also moves the progress on. A run that crashed resumes after its last
    committed batch; the delivery is recorded with the end, so a redelivery then does nothing.
    With `workers`, the rows are read and checked (ledger_rows) in a worker process of their
    own while this one writes the batches before: the two halves of a row's cost on two cores."""
    with uow.transaction() as tx:
        batch = tx.session.get(ImportBatch, batch_id, with_for_update=True)
        if batch is None or batch.status in ("done", "failed", "uploading"):
            record_first_delivery(tx, event)
            return
        if batch.status == "queued":
            batch.status, batch.started_at = "running", utcnow()
        done_rows, file_format, columns = batch.processed_rows, batch.file_format, batch.columns
        total_rows = batch.total_rows
        caller = Caller.recorded(batch.actor_key_id, batch.actor_role, batch.org_id)
        # On PostgreSQL the next batches are prepared while this one is written: the server's
        # work on a batch (inserts into indexed tables) and ours each take a while, on two
        # cores. SQLite works inside this process.
        ahead = is_postgresql(tx.session)
    failure = None
    # Read outside the write's transaction: SQLite has one writer, and reading the staged file
    # needs its own short reads.
    job = ImportJob(file_format=file_format, columns=columns, skip_rows=done_rows, batch_id=batch_id,
                    batch_size=BATCH_SIZE, max_rows=MAX_ROWS, total_rows=total_rows)

    def local_pieces():
        return stored_pieces(uow.read, batch_id, protector)

    checked_batches = workers.checked_batches(job, protector, uow.database_url(), local_pieces) \
        if workers else ledger_rows.checked_batches(job, local_pieces(), protector)

    def prepare_next():
        checked = next(checked_batches, None)
        if checked is None or checked.over_limit:
            return (checked.size if checked else 0), None
        with uow.read() as session:
            return checked.size, prepare_rows(session, batch_id, caller, checked,
                                              pause=_pause if ahead else None)

    batches = (_Ahead if ahead else _InTurn)(prepare_next)
    try:
        while True:
            size, prepared = batches.next()
            if not size:
                break
            if prepared is None:
                failure = f"more than {MAX_ROWS} rows: split the file"
                break
            with uow.transaction() as tx:
                batch = tx.session.get(ImportBatch, batch_id, with_for_update=True)
                if batch.processed_rows != done_rows:
                    return  # another delivery of the same event is importing this file
                counts = import_rows(tx, batch, prepared, protector)
                batch.processed_rows += size
                batch.total_rows = max(batch.total_rows, batch.processed_rows)
                batch.imported += counts["imported"]
                batch.duplicates += counts["duplicates"]
                batch.invalid += counts["invalid"]
            done_rows += size
    except UnreadableFile as exc:
        failure = f"{exc} (from row {done_rows + 2})"
    finally:
        batches.close()  # nothing may read the file once it is closed
        checked_batches.close()
    with uow.transaction() as tx:
        if not record_first_delivery(tx, event):
            return
        batch = tx.session.get(ImportBatch, batch_id, with_for_update=True)
        batch.status, batch.failure, batch.finished_at = ("failed" if failure else "done"), failure, utcnow()
        if not failure:
            batch.total_rows = batch.processed_rows
        tx.session.execute(delete(ImportFileChunk).where(ImportFileChunk.batch_id == batch_id))


class _InTurn:
    """`produce()` -> (rows read, prepared batch) for one batch after the other, each when
    it is asked for."""

    def __init__(self, produce):
        self._produce = produce

    def next(self):
        return self._produce()

    def close(self) -> None:
        pass


class _Ahead(_InTurn):
    """The same batches, produced by a thread of its own up to two ahead of the one the caller
    writes (one waiting, one in the making). Under eventlet it is a green thread: it runs while
    the caller waits for the database, and `_pause` lets the caller go on once the database has
    answered. Its error (an unreadable file) reaches the caller where the batch would have."""

    def __init__(self, produce):
        super().__init__(produce)
        self._ready = queue.Queue(maxsize=1)
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stopped:
            try:
                size, prepared = super().next()
            except BaseException as exc:  # handed to the caller in the batch's place
                self._ready.put((False, exc))
                return
            self._ready.put((True, (size, prepared)))
            if not size or prepared is None:
                return

    def next(self):
        done, value = self._ready.get()
        if not done:
            raise value
        return value

    def close(self) -> None:
        """Stops after the batch in the making (if any) and waits for that."""
        self._stopped = True
        try:
            self._ready.get_nowait()  # room for a batch the thread may be waiting to hand over
        except queue.Empty:
            pass
        self._thread.join()


def _pause():
    time.sleep(0)  # a green sleep under eventlet: other greenlets (the write) run if they can


# -- reading imports back -----------------------------------------------------------------------
def get_batch(session: Session, caller: Caller, batch_id: str, for_update=False) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id, with_for_update=for_update) \
        if plausible_id(batch_id) else None
    if batch is None or not (caller.platform_wide or batch.org_id == caller.org_id):
        raise NotFound("import not found")
    return batch


def _reason(problem: ImportRowProblem) -> str:
    if problem.kind == DUPLICATE_IN_FILE:
        return f"same ID number as row {problem.duplicate_of_row} of this file"
    if problem.kind == ALREADY_REGISTERED:
        return "ID number already registered" + (
            f" (member {problem.member_id})" if problem.member_id else "")
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in (problem.fields or {}).items())


def batch_view(session: Session, batch: ImportBatch) -> dict:
    """Counts, progress with an estimate of the time left, and the first REPORT_LIMIT problems
    (the error file has them all)."""
    problems = list(session.scalars(select(ImportRowProblem).where(
        ImportRowProblem.batch_id == batch.id).order_by(ImportRowProblem.row_number)
        .limit(REPORT_LIMIT)))
    rate = seconds_left = None
    if batch.started_at and batch.processed_rows:
        elapsed = ((batch.finished_at and as_utc(batch.finished_at)) or utcnow()) - as_utc(batch.started_at)
        rate = round(batch.processed_rows / max(elapsed.total_seconds(), 0.001), 1)
    if batch.status in ("queued", "running"):
        remaining = max(batch.total_rows - batch.processed_rows, 0)
        seconds_left = round(remaining / rate, 1) if rate else None
    elif batch.status in ("done", "failed"):
        seconds_left = 0
    return {"id": batch.id, "status": batch.status, "file_format": batch.file_format,
            "filename": batch.filename, "file_size": batch.file_size,
            "total_rows": batch.total_rows, "processed_rows": batch.processed_rows,
            "rows_per_second": rate, "seconds_left": seconds_left,
            "imported": batch.imported, "duplicates": batch.duplicates, "invalid": batch.invalid,
            "errors": [{"row": p.row_number, "fields": p.fields or {}}
                       for p in problems if p.kind == INVALID],
            "duplicate_rows": [{"row": p.row_number, "of": "file_row" if p.kind == DUPLICATE_IN_FILE else "member",
                                "duplicate_of_row": p.duplicate_of_row, "member_id": p.member_id}
                               for p in problems if p.kind != INVALID],
            "problems_listed": len(problems), "failure": batch.failure,
            "created_at": as_utc(batch.created_at),
            "started_at": batch.started_at and as_utc(batch.started_at),
            "finished_at": batch.finished_at and as_utc(batch.finished_at)}


def error_file(session: Session, caller: Caller, batch_id: str, file_format: str,
               protector) -> dict:
    """Every row not imported, with the file's own columns between `source_row` and `reason`:
    fix the rows, delete the two extra columns or not (the import reads past them), import."""
    if file_format not in ("csv", "xlsx"):
        raise NotFound("no such error file format")
    batch = get_batch(session, caller, batch_id)
    columns = [c for c in (batch.columns or list(REQUIRED_COLUMNS))
               if c.strip().lower() not in ERROR_FILE_COLUMNS]
    kept = [i for i, c in enumerate(batch.columns or []) if c.strip().lower() not in ERROR_FILE_COLUMNS]

    header = ["source_row"] + columns + ["reason"]

    def rows():
        query = select(ImportRowProblem).where(ImportRowProblem.batch_id == batch.id) \
            .order_by(ImportRowProblem.row_number).execution_options(yield_per=1000)
        for problem in session.scalars(query):
            values = json.loads(protector.decrypt(problem.values_encrypted)) \
                if problem.values_encrypted else []
            values = [values[i] if i < len(values) else "" for i in kept]
            yield [str(problem.row_number)] + values + [_reason(problem)]

    return exports.export_file(file_format, f"import-{batch.id[:8]}-errors", header, rows(),
                               sheet_title="errors")


# -- export -------------------------------------------------------------------------------------------
# The import's columns under the same names, so an export can be corrected and imported back;
# the rest (EXPORT_ONLY_COLUMNS) an import reads past.
EXPORT_HEADER = ("id",) + IMPORT_COLUMNS + tuple(c for c in EXPORT_ONLY_COLUMNS if c != "id")


def export_members(session: Session, caller: Caller, file_format: str, params: dict,
                   protector) -> dict:
    """The caller's scope with the list endpoint's filters, as CSV or XLSX (base64 over RPC).
    ID numbers and phones in full for the member's home side (office) and admins, the roles
    that may see a full number; masked for the host side."""
    if file_format not in exports.FORMATS:
        raise NotFound("no such export format")
    data = load(MemberExportQuerySchema, params)
    query = filtered_members_query(session, caller, data).order_by(Member.created_at, Member.id)
    members = list(session.scalars(query.limit(EXPORT_LIMIT + 1)))
    if len(members) > EXPORT_LIMIT:
        raise ValidationFailed("too many rows", {"_schema": [
            f"more than {EXPORT_LIMIT} members match: narrow the filters"]})
    org_ids = {m.home_org_id for m in members} | {m.host_org_id for m in members if m.host_org_id}
    units = {o.id: o for o in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(org_ids)))} if org_ids else {}
    prefix = caller_path(session, caller)
    rows = []
    for m in members:
        home, host = units[m.home_org_id], units.get(m.host_org_id)
        full = caller.role == "admin" or (caller.role == "office" and (
            prefix is None or home.path.startswith(prefix)))
        rows.append((m.id, m.name,
                     protector.decrypt(m.id_number_encrypted) if full else m.id_number_masked,
                     m.phone if full else phones.mask(m.phone), m.home_org_id, m.host_org_id or "",
                     m.category or "", m.occupation or "",
                     m.joined_party_on.isoformat() if m.joined_party_on else "",
                     ";".join(m.languages or []), ";".join(m.skills or []), m.notes or "",
                     m.gender or "", m.birth_date.isoformat() if m.birth_date else "", m.status,
                     home.name, host.name if host else "", (host.city or "") if host else "",
                     m.lost_contact_on.isoformat() if m.lost_contact_on else ""))
    return exports.export_file(file_format, "members", EXPORT_HEADER, rows, sheet_title="members")
