"""Bulk import (CSV and XLSX) with a row-by-row error report and idempotent re-import, the
ledger export, and the county/committee reports (worker_factory on SQLite)."""
import base64
import csv
import hashlib
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from services.members import bulk
from services.members.models import ImportBatch, ImportFileChunk, Member
from services.plumbing.errors import Conflict, NotFound, ValidationFailed

from .world import crash_import_at_second_batch, id_number, office, received, register

HEADER = ["name", "id_number", "phone", "home_org_id", "host_org_id", "category", "languages"]


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


def outbox_event(uow, batch):
    return received(uow, "member_import_requested", "on_member_import_requested", batch_id=batch["id"])


def run(service, uow, batch):
    event = outbox_event(uow, batch)
    service.on_member_import_requested(event)
    return event


def member_count(uow):
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(Member))


@pytest.mark.parametrize("make_body", [csv_body, xlsx_body])
def test_import_mixed_rows_then_reimport_creates_no_duplicates(service, w, uow, make_body, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 7)  # several batches
    ours = register(service, w, 100)  # already registered: a duplicate in the file
    theirs = register(service, w, 119, home_org_id=w["other_township"]["id"],
                      host_org_id=w["other_branch"]["id"], caller=office(w["other_county"]))
    rows = good_rows(w, 20)
    rows[5:5] = bad_rows(w)
    rows.append(rows[-2])  # the same person twice in the file
    county = office(w["county"])
    batch = service.start_import(county, make_body(rows))
    assert (batch["status"], batch["total_rows"], batch["processed_rows"]) == ("queued", 26, 0)
    event = run(service, uow, batch)
    done = service.get_import(county, batch["id"])
    assert (done["status"], done["processed_rows"], done["seconds_left"]) == ("done", 26, 0)
    assert (done["imported"], done["duplicates"], done["invalid"]) == (18, 3, 5)
    errors = {e["row"]: e["fields"] for e in done["errors"]}
    assert sorted(errors) == [7, 8, 9, 10, 11]
    assert "name" in errors[7] and "check digit" in errors[8]["id_number"][0]
    assert "phone" in errors[9] and "home_org_id" in errors[10] and "category" in errors[11]
    # each duplicate by row: of a member (named only when the county may see it) or of a row
    assert done["duplicate_rows"] == [
        {"row": 2, "of": "member", "duplicate_of_row": None, "member_id": ours["id"]},
        {"row": 26, "of": "member", "duplicate_of_row": None, "member_id": None},
        {"row": 27, "of": "file_row", "duplicate_of_row": 25, "member_id": None}]
    assert theirs["id"] not in str(done)
    assert member_count(uow) == 20
    imported = service.list_members(county, {"name": "导入101"})["items"][0]
    assert imported["languages"] == ["普通话", "藏语"] and imported["status"] == "pending"
    service.on_member_import_requested(event)  # redelivered: nothing happens
    assert member_count(uow) == 20
    again = service.start_import(county, make_body(rows))
    run(service, uow, again)
    again = service.get_import(county, again["id"])
    assert (again["imported"], again["duplicates"], len(again["errors"])) == (0, 21, 5)
    assert member_count(uow) == 20
    with pytest.raises(NotFound):
        service.get_import(office(w["other_county"]), batch["id"])


def read_table(exported):
    content = base64.b64decode(exported["content_base64"])
    if exported["filename"].endswith(".csv"):
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return [["" if c is None else str(c) for c in r]
            for r in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_error_file_lists_every_row_not_imported_and_imports_again_once_fixed(service, w, uow,
                                                                             file_format):
    register(service, w, 100)
    rows = good_rows(w, 3) + bad_rows(w)[:2]
    rows.append(rows[1])
    county = office(w["county"])
    batch = service.start_import(county, csv_body(rows))
    run(service, uow, batch)
    table = read_table(service.import_error_file(county, batch["id"], file_format))
    assert table[0] == ["source_row"] + HEADER + ["reason"]
    by_row = {r[0]: dict(zip(table[0], r, strict=False)) for r in table[1:]}
    assert sorted(by_row, key=int) == ["2", "5", "6", "7"]
    assert by_row["2"]["reason"].startswith("ID number already registered (member ")
    assert by_row["5"]["reason"] == "name: Missing data for required field."
    assert by_row["6"]["reason"].startswith("id_number: check digit")
    assert by_row["7"]["reason"] == "same ID number as row 3 of this file"
    assert by_row["6"]["id_number"] == rows[4][1]  # the full values, to be fixed
    # fixed: a name, a right ID number; the file goes back as it is (extra columns read past)
    fixed = [r for r in table if r[0] in ("source_row", "5", "6")]
    fixed[1][1], fixed[2][2] = "补名", id_number(950)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(fixed)
    body = {"format": "csv", "content_base64": base64.b64encode(buffer.getvalue().encode()).decode()}
    again = service.start_import(county, body)
    run(service, uow, again)
    again = service.get_import(county, again["id"])
    assert (again["imported"], again["duplicates"], again["invalid"]) == (2, 0, 0)
    assert member_count(uow) == 5  # one registered before, two from the file, two fixed
    with pytest.raises(NotFound):
        service.import_error_file(office(w["other_county"]), batch["id"], file_format)


def test_unreadable_files_are_400_at_once(service, w, uow):
    county = office(w["county"])
    for body, field in [({"format": "csv", "content_base64": "!!"}, "content_base64"),
                        ({"format": "xlsx", "content_base64": base64.b64encode(b"not excel").decode()}, "file"),
                        ({"format": "csv", "content_base64": base64.b64encode(b"\xff\xfe\x00n").decode()}, "file"),
                        ({"format": "csv",
                          "content_base64": base64.b64encode(b"name,colour\nx,red").decode()}, "header"),
                        ({"format": "csv", "content_base64": base64.b64encode(
                            b"name,name,id_number,phone,home_org_id\n").decode()}, "header"),
                        ({"format": "pdf", "content_base64": "eA=="}, "format"),
                        ({"filename": "ledger.txt", "content_base64": "eA=="}, "format")]:
        with pytest.raises(ValidationFailed) as error:
            service.start_import(county, body)
        assert field in error.value.fields, (body, error.value.fields)
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_upload_in_pieces_in_order_and_the_same_key_gives_the_first_import(service, w, uow):
    county = office(w["county"])
    content = base64.b64decode(csv_body(good_rows(w, 40))["content_base64"])
    announce = {"filename": "台账.CSV"}
    file = {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    with pytest.raises(ValidationFailed) as error:  # the caller's fields are only these
        service.open_import(county, {**announce, "size": 1}, file)
    assert "size" in error.value.fields
    batch = service.open_import(county, announce, file, "key-1")
    assert (batch["status"], batch["file_format"]) == ("uploading", "csv")
    pieces = [content[:1000], content[1000:]]
    with pytest.raises(ValidationFailed):  # out of order
        service.append_import_chunk(county, batch["id"], 1, base64.b64encode(pieces[1]).decode())
    with pytest.raises(NotFound):  # another county's upload
        service.append_import_chunk(office(w["other_county"]), batch["id"], 0, "eA==")
    service.append_import_chunk(county, batch["id"], 0, base64.b64encode(pieces[0]).decode())
    with pytest.raises(ValidationFailed) as error:
        service.finish_import(county, batch["id"])
    assert "file" in error.value.fields  # not all of it yet
    service.append_import_chunk(county, batch["id"], 1, base64.b64encode(pieces[1]).decode())
    queued = service.finish_import(county, batch["id"])
    assert (queued["status"], queued["total_rows"]) == ("queued", 40)
    with pytest.raises(Conflict):  # finished: no more pieces
        service.append_import_chunk(county, batch["id"], 2, "eA==")
    assert service.open_import(county, announce, file, "key-1")["id"] == batch["id"]
    with pytest.raises(Conflict):
        service.open_import(county, announce, {**file, "sha256": "0" * 64}, "key-1")
    run(service, uow, queued)
    assert service.get_import(county, batch["id"])["imported"] == 40
    with uow.read() as session:  # the staged file is gone once imported
        assert session.scalar(select(func.count()).select_from(ImportFileChunk)) == 0
    other = service.open_import(county, announce, file)
    service.discard_import(county, other["id"])
    with pytest.raises(NotFound):
        service.get_import(county, other["id"])
    # an upload that broke off midway is started again by its retry with the same key
    broken = service.open_import(county, announce, file, "key-2")
    service.append_import_chunk(county, broken["id"], 0, base64.b64encode(pieces[0]).decode())
    retried = service.open_import(county, announce, file, "key-2")
    assert retried["id"] != broken["id"] and retried["status"] == "uploading"
    with pytest.raises(NotFound):
        service.get_import(county, broken["id"])


def test_a_crashed_import_resumes_after_its_last_committed_batch(service, w, uow, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 4)
    county = office(w["county"])
    rows = good_rows(w, 10)
    rows.append(rows[0])  # a duplicate of a row imported before the crash
    batch = service.start_import(county, csv_body(rows))
    crash_import_at_second_batch(monkeypatch)
    event = outbox_event(uow, batch)
    with pytest.raises(RuntimeError):
        bulk.run_import(uow, event, batch["id"], service._protector())
    midway = service.get_import(county, batch["id"])
    assert (midway["status"], midway["processed_rows"], midway["imported"]) == ("running", 4, 4)
    assert midway["total_rows"] == 11 and midway["rows_per_second"] > 0
    assert midway["seconds_left"] is not None  # an estimate for the 7 rows to go
    run(service, uow, batch)  # the redelivery
    done = service.get_import(county, batch["id"])
    assert (done["status"], done["imported"], done["duplicates"]) == ("done", 10, 1)
    assert done["duplicate_rows"] == [{"row": 12, "of": "file_row", "duplicate_of_row": 2,
                                       "member_id": None}]
    assert member_count(uow) == 10


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
    row = dict(zip(table[0], table[1], strict=False))
    assert row["name"] == "甲" and row["host_org"] == "丰台支部" and row["host_city"] == "北京丰台"
    # the home county sees full numbers (its own record); the host committee masked ones
    assert row["id_number"] == id_number(1) and row["phone"] == "13800001234"
    hosted = read_table(service.export_members(office(w["committee"]), file_format,
                                               {"category": "working"}))
    hosted = dict(zip(hosted[0], hosted[1], strict=False))
    assert "********" in hosted["id_number"] and "****" in hosted["phone"]
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


def test_an_exported_ledger_imports_back_under_the_same_column_names(service, w, uow):
    county = office(w["county"])
    register(service, w, 1, name="甲", category="working")
    exported = service.export_members(county, "csv", {})
    table = read_table(exported)
    assert set(bulk.IMPORT_COLUMNS) <= set(table[0])
    # corrected: one more member added at the bottom, in the export's own layout
    added = dict(zip(table[0], table[1], strict=False), id="", name="乙", id_number=id_number(2))
    table.append([added[c] for c in table[0]])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    batch = service.start_import(county, {"filename": "members.csv", "content_base64": base64.b64encode(
        buffer.getvalue().encode("utf-8-sig")).decode()})
    run(service, uow, batch)
    done = service.get_import(county, batch["id"])
    assert (done["imported"], done["duplicates"], done["invalid"]) == (1, 1, 0), done
    assert member_count(uow) == 2
