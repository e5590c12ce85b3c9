"""Bulk import of members from CSV or XLSX, and the ledger export. Plain Python, no nameko.

Import: the request parses the file (a broken file is a 400 at once), stores its rows in an
ImportBatch and emits `member_import_requested`; the handler imports the rows in batches of
BATCH_SIZE, one transaction each, updating the batch's progress, and reports every bad row
with its field messages. A row whose ID number is already registered is counted as a duplicate
and skipped, so importing the same file again creates nobody twice; a retried handler finds its
own earlier rows (same batch) and counts them as imported.
"""
import base64
import binascii
import csv
import io
import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.plumbing import exports
from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import NotFound, ServiceError, ValidationFailed
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.pagination import as_utc
from services.plumbing.validation import load

from . import events, id_numbers, phones
from .models import ImportBatch, Member, OrgUnit
from .orgs import plausible_id
from .registry import check_orgs, filtered_members_query, new_member, registration_record
from .schemas import IMPORT_COLUMNS, ImportCreateSchema, MemberCreateSchema, MemberExportQuerySchema

BATCH_SIZE = 500
MAX_ROWS = 20000
EXPORT_LIMIT = 100000
REQUIRED_COLUMNS = ("name", "id_number", "phone", "home_org_id")
LIST_COLUMNS = ("languages", "skills")


# -- reading files ----------------------------------------------------------------------------------
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


def read_rows(file_format: str, content: bytes) -> list[dict]:
    """The file's data rows as {column: text}; a file that cannot be read is a 400."""
    try:
        if file_format == "csv":
            text = content.decode("utf-8-sig")
            table = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
        else:
            from openpyxl import load_workbook
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            table = [[_cell(c) for c in row] for row in book.worksheets[0].iter_rows(values_only=True)]
            book.close()
    except Exception as exc:  # any unreadable file: say so, never a 500
        raise ValidationFailed("the file cannot be read", {"content_base64": [f"not a readable {file_format} file: {type(exc).__name__}"]})
    if not table:
        raise ValidationFailed("empty file", {"content_base64": ["the file has no header row"]})
    header = [h.strip().lower() for h in table[0]]
    unknown = [h for h in header if h and h not in IMPORT_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing:
        messages = [f"unknown column {h}" for h in unknown] + [f"missing column {c}" for c in missing]
        raise ValidationFailed("bad header row", {"header": messages})
    rows = []
    for values in table[1:]:
        if not any(v for v in values):
            rows.append(None)  # a blank line keeps the row numbers right but is skipped
            continue
        rows.append({h: (values[i] if i < len(values) else "") for i, h in enumerate(header) if h})
    if len(rows) > MAX_ROWS:
        raise ValidationFailed("too many rows", {"content_base64": [f"at most {MAX_ROWS} rows per file"]})
    return rows


def start_import(tx: Transaction, caller: Caller, body: dict) -> ImportBatch:
    data = load(ImportCreateSchema, body)
    try:
        content = base64.b64decode(data["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("invalid input", {"content_base64": ["not base64"]})
    rows = read_rows(data["format"], content)
    batch = ImportBatch(id=str(uuid.uuid4()), org_id=caller.org_id, actor_key_id=caller.key_id,
                        actor_role=caller.role, file_format=data["format"], status="queued",
                        total_rows=len(rows), processed_rows=0, imported=0, duplicates=0,
                        errors=[], pending_rows=rows, created_at=utcnow())
    tx.session.add(batch)
    tx.session.flush()
    tx.emit(events.member_import_requested(batch))
    return batch


# -- importing ----------------------------------------------------------------------------------------
def _row_body(row: dict) -> dict:
    body = {}
    for column, value in row.items():
        if value in ("", None):
            continue
        body[column] = [v.strip() for v in value.split(";") if v.strip()] if column in LIST_COLUMNS else value
    return body


def import_rows(tx: Transaction, batch: ImportBatch, start: int, rows: list, protector,
                seen: set) -> dict:
    """Imports one chunk (rows start.. of the file); returns its counts and row errors."""
    session = tx.session
    caller = Caller(key_id=batch.actor_key_id, role=batch.actor_role, org_id=batch.org_id)
    result = {"imported": 0, "duplicates": 0, "errors": []}
    valid = []
    for offset, row in enumerate(rows):
        row_number = start + offset + 2  # the header is row 1
        if row is None:
            continue
        try:
            data = load(MemberCreateSchema, _row_body(row))
            try:
                number = id_numbers.normalise(data["id_number"])
            except id_numbers.InvalidIdNumber as exc:
                raise ValidationFailed("invalid input", {"id_number": [str(exc)]})
            home, host = check_orgs(session, caller, data["home_org_id"], data["host_org_id"])
        except ServiceError as exc:
            result["errors"].append({"row": row_number, "fields": exc.fields})
            continue
        fingerprint = protector.fingerprint(number)
        if fingerprint in seen:
            result["errors"].append({"row": row_number, "fields": {
                "id_number": ["appears more than once in this file"]}})
            continue
        seen.add(fingerprint)
        valid.append((data, number, home, host, fingerprint))
    # One query for the whole chunk: which ID numbers are registered already, and by whom.
    registered = dict(session.execute(select(Member.id_number_hash, Member.import_batch_id).where(
        Member.id_number_hash.in_([v[4] for v in valid]))).all()) if valid else {}
    members = []
    for data, number, home, host, fingerprint in valid:
        if fingerprint in registered:
            # this batch's own row from an earlier, interrupted run counts as imported
            result["imported" if registered[fingerprint] == batch.id else "duplicates"] += 1
            continue
        members.append(new_member(data, number, home, host, protector, fingerprint,
                                  batch_id=batch.id))
    session.add_all(members)
    session.flush()  # members before their history rows (no ORM relationship orders them)
    session.add_all([registration_record(member, caller) for member in members])
    for member in members:
        tx.emit(events.member_registered(member))
    result["imported"] += len(members)
    session.flush()
    return result


def run_import(uow, event, batch_id: str, protector) -> None:
    """The handler's work: chunk by chunk, each chunk one transaction that also moves the
    progress on. The delivery is recorded with the last chunk; a redelivery after that does
    nothing, and a retry after a crash redoes the chunks without creating anyone twice."""
    with uow.transaction() as tx:
        batch = tx.session.get(ImportBatch, batch_id)
        if batch is None or batch.status == "done":
            record_first_delivery(tx, event)
            return
        rows = list(batch.pending_rows or [])
        batch.status, batch.processed_rows, batch.imported, batch.duplicates, batch.errors = \
            "running", 0, 0, 0, []
    seen: set = set()
    for start in range(0, len(rows), BATCH_SIZE):
        with uow.transaction() as tx:
            batch = tx.session.get(ImportBatch, batch_id, with_for_update=True)
            chunk = import_rows(tx, batch, start, rows[start:start + BATCH_SIZE], protector, seen)
            batch.processed_rows = min(start + BATCH_SIZE, len(rows))
            batch.imported += chunk["imported"]
            batch.duplicates += chunk["duplicates"]
            batch.errors = list(batch.errors) + chunk["errors"]
    with uow.transaction() as tx:
        if not record_first_delivery(tx, event):
            return
        batch = tx.session.get(ImportBatch, batch_id)
        batch.status, batch.finished_at, batch.pending_rows = "done", utcnow(), None


def get_batch(session: Session, caller: Caller, batch_id: str) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id) if plausible_id(batch_id) else None
    if batch is None or not (caller.platform_wide or batch.org_id == caller.org_id):
        raise NotFound("import not found")
    return batch


def batch_view(batch: ImportBatch) -> dict:
    return {"id": batch.id, "status": batch.status, "file_format": batch.file_format,
            "total_rows": batch.total_rows, "processed_rows": batch.processed_rows,
            "imported": batch.imported, "duplicates": batch.duplicates, "errors": batch.errors or [],
            "created_at": as_utc(batch.created_at),
            "finished_at": batch.finished_at and as_utc(batch.finished_at)}


# -- export -------------------------------------------------------------------------------------------
EXPORT_HEADER = ("id", "name", "id_number_masked", "phone_masked", "gender", "birth_date",
                 "joined_party_on", "category", "occupation", "languages", "skills", "status",
                 "home_org", "host_org", "host_city", "lost_contact_on", "notes")


def export_members(session: Session, caller: Caller, file_format: str, params: dict) -> dict:
    """The caller's scope with the list endpoint's filters, as CSV or XLSX (base64 over RPC)."""
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
    rows = []
    for m in members:
        host = units.get(m.host_org_id)
        rows.append((m.id, m.name, m.id_number_masked, phones.mask(m.phone), m.gender or "",
                     m.birth_date.isoformat() if m.birth_date else "",
                     m.joined_party_on.isoformat() if m.joined_party_on else "",
                     m.category or "", m.occupation or "", ";".join(m.languages or []),
                     ";".join(m.skills or []), m.status, units[m.home_org_id].name,
                     host.name if host else "", (host.city or "") if host else "",
                     m.lost_contact_on.isoformat() if m.lost_contact_on else "", m.notes or ""))
    return exports.export_file(file_format, "members", EXPORT_HEADER, rows, sheet_title="members")
