"""Bulk import (CSV and XLSX) with a row-by-row error report and idempotent re-import, the
ledger export, and the county/committee reports (worker_factory on SQLite)."""
import base64
import csv
import io

import pytest
from nameko.testing.services import worker_factory
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from services.members import bulk
from services.members.models import PLUMBING, Member
from services.members.service import MembersService
from services.plumbing.envelope import ReceivedEvent
from services.plumbing.errors import NotFound, ValidationFailed

from .conftest import CONFIG
from .world import build, id_number, office, register

HEADER = ["name", "id_number", "phone", "home_org_id", "host_org_id", "category", "languages"]


@pytest.fixture
def service(uow):
    return worker_factory(MembersService, db=uow, config=CONFIG)


@pytest.fixture
def w(service):
    return build(service)


def good_rows(w, count, first=100):
    return [[f"导入{i}", id_number(i), "13800001234", w["village"]["id"], w["branch"]["id"],
             "working", "普通话;藏语"] for i in range(first, first + count)]


def bad_rows(w):
    wrong_digit = id_number(900)[:-1] + ("0" if id_number(900)[-1] != "0" else "1")
    return [
        ["", id_number(901), "13800001234", w["village"]["id"], "", "", ""],             # no name
        ["坏号", wrong_digit, "13800001234", w["village"]["id"], "", "", ""],           # check digit
        ["坏电话", id_number(902), "12", w["village"]["id"], "", "", ""],                # phone
        ["外县", id_number(903), "13800001234", w["other_township"]["id"], "", "", ""],  # not ours
        ["坏类别", id_number(904), "13800001234", w["village"]["id"], "", "tourist", ""],
    ]


def csv_body(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER] + rows)
    return {"format": "csv", "content_base64": base64.b64encode(buffer.getvalue().encode()).decode()}


def xlsx_body(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return {"format": "xlsx", "content_base64": base64.b64encode(buffer.getvalue()).decode()}


def run(service, uow, batch):
    with uow.read() as session:
        for row in session.execute(select(PLUMBING.outbox)):
            if row.event_type == "member_import_requested" and row.envelope["data"]["batch_id"] == batch["id"]:
                event = ReceivedEvent.from_envelope(row.envelope, "members.on_member_import_requested")
    service.on_member_import_requested(event)
    return event


def member_count(uow):
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(Member))


@pytest.mark.parametrize("make_body", [csv_body, xlsx_body])
def test_import_mixed_rows_then_reimport_creates_no_duplicates(service, w, uow, make_body, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 7)  # several batches
    register(service, w, 100)  # already registered: a duplicate in the file
    rows = good_rows(w, 20)
    rows[5:5] = bad_rows(w)
    rows.append(rows[-1])  # the same person twice in the file
    county = office(w["county"])
    batch = service.start_import(county, make_body(rows))
    assert (batch["status"], batch["total_rows"], batch["processed_rows"]) == ("queued", 26, 0)
    event = run(service, uow, batch)
    done = service.get_import(county, batch["id"])
    assert (done["status"], done["processed_rows"]) == ("done", 26)
    assert (done["imported"], done["duplicates"]) == (19, 1)
    errors = {e["row"]: e["fields"] for e in done["errors"]}
    assert sorted(errors) == [7, 8, 9, 10, 11, 27]
    assert "name" in errors[7] and "check digit" in errors[8]["id_number"][0]
    assert "phone" in errors[9] and "home_org_id" in errors[10] and "category" in errors[11]
    assert "more than once" in errors[27]["id_number"][0]
    assert member_count(uow) == 20
    imported = service.list_members(county, {"name": "导入101"})["items"][0]
    assert imported["languages"] == ["普通话", "藏语"] and imported["status"] == "pending"
    service.on_member_import_requested(event)  # redelivered: nothing happens
    assert member_count(uow) == 20
    again = service.start_import(county, make_body(rows))
    run(service, uow, again)
    again = service.get_import(county, again["id"])
    assert (again["imported"], again["duplicates"], len(again["errors"])) == (0, 20, 6)
    assert member_count(uow) == 20
    with pytest.raises(NotFound):
        service.get_import(office(w["other_county"]), batch["id"])


def test_unreadable_files_are_400_at_once(service, w, uow):
    county = office(w["county"])
    for body, field in [({"format": "csv", "content_base64": "!!"}, "content_base64"),
                        ({"format": "xlsx", "content_base64": base64.b64encode(b"not excel").decode()}, "content_base64"),
                        ({"format": "csv", "content_base64": base64.b64encode(b"name,colour\nx,red").decode()}, "header"),
                        ({"format": "pdf", "content_base64": "eA=="}, "format")]:
        with pytest.raises(ValidationFailed) as error:
            service.start_import(county, body)
        assert field in error.value.fields


def test_interrupted_import_counts_its_own_rows_on_retry(service, w, uow):
    county = office(w["county"])
    batch = service.start_import(county, csv_body(good_rows(w, 3)))
    event = None
    with uow.read() as session:
        row = next(r for r in session.execute(select(PLUMBING.outbox)) if r.event_type == "member_import_requested")
        event = ReceivedEvent.from_envelope(row.envelope, "members.on_member_import_requested")
    # a first run that wrote its rows but died before finishing: simulate by importing a chunk
    from services.members.models import ImportBatch
    with uow.transaction() as tx:
        stored = tx.session.get(ImportBatch, batch["id"])
        bulk.import_rows(tx, stored, 0, stored.pending_rows[:2], service._protector(), set())
    service.on_member_import_requested(event)
    done = service.get_import(county, batch["id"])
    assert (done["imported"], done["duplicates"]) == (3, 0)
    assert member_count(uow) == 3


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_uses_the_list_filters_and_the_scope(service, w, file_format):
    register(service, w, 1, name="甲", category="working")
    register(service, w, 2, name="乙", category="stationed")
    register(service, w, 3, name="外", home_org_id=w["other_township"]["id"],
             host_org_id=w["other_branch"]["id"], caller=office(w["other_county"]))
    exported = service.export_members(office(w["county"]), file_format, {"category": "working"})
    content = base64.b64decode(exported["content_base64"])
    if file_format == "csv":
        table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        table = [list(r) for r in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]
    assert exported["rows"] == 1 and len(table) == 2
    row = dict(zip(table[0], table[1]))
    assert row["name"] == "甲" and row["host_org"] == "丰台支部" and row["host_city"] == "北京丰台"
    assert "********" in row["id_number_masked"] and "****" in row["phone_masked"]
    with pytest.raises(ValidationFailed):
        service.export_members(office(w["county"]), file_format, {"format": "csv"})
    everything = service.export_members(office(w["county"]), file_format, {})
    assert everything["rows"] == 2


def test_member_and_flow_reports(service, w):
    county = office(w["county"])
    a = register(service, w, 1, category="working")
    b = register(service, w, 2, category="working", host_org_id=w["other_branch"]["id"])
    register(service, w, 3, category="stationed", host_org_id=None)
    service.flow_step(office(w["branch"]), a["id"], "accept", {})
    service.flow_step(county, b["id"], "return_home", {})
    report = service.member_report(county, {})
    assert report["total"] == 3
    assert report["by_host_city"] == {"北京丰台": 1, "none": 2}
    assert report["by_category"] == {"working": 2, "stationed": 1}
    assert report["by_status"] == {"active": 1, "returned": 1, "registered": 1}
    committee = service.member_report(office(w["committee"]), {})
    assert committee["total"] == 1
    flows = service.flow_report(county, {})["items"]
    assert len(flows) == 1
    month = flows[0]
    assert (month["flowed_out"], month["accepted"], month["returned"]) == (2, 1, 1)
    with pytest.raises(NotFound):
        service.member_report(office(w["other_county"]), {"org_id": w["county"]["id"]})
