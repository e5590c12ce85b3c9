"""A county's whole ledger imported through the gateway on PostgreSQL (issue 17, issue 10 item
16): 20,000-row CSV and XLSX files sent as multipart uploads import completely, bad rows and
duplicates are reported by row number (another county's member stays unnamed), the error file
downloads, parses, and once fixed imports exactly the missing members; an upload over the
upload limit is a 413 that leaves nothing, while other routes keep the small body limit."""
import base64
import csv
import io
import json
from datetime import date, timedelta

import pytest
from openpyxl import Workbook, load_workbook

from services.members.id_numbers import check_char
from tests.fixtures import wait_for

from .helpers import build_world, register_member

pytestmark = pytest.mark.integration

ROWS = 20000
HEADER = ["name", "id_number", "phone", "home_org_id", "host_org_id", "category", "languages"]


@pytest.fixture
def backend():
    return "postgresql"


@pytest.fixture
def world(platform):
    # As deployed: the rows are read and checked by an import worker process beside the service.
    platform.start("members", members={"MEMBER_IMPORT_WORKERS": 1})
    return build_world(platform)


def ledger_id(serial: int) -> str:
    born = date(1960, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"130702{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_char(first17)


def wrong_digit(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def county_ledger(world, ours, theirs):
    """20,000 rows; the bad ones at known row numbers (the header is row 1), with what the
    office must fix. `ours`/`theirs`: ID numbers registered already by this and another county."""
    a, b = world["a"], world["b"]
    rows = [[f"党员{i}", ledger_id(i), "13800001234", a["township"], a["branch"], "working",
             "普通话;藏语" if i % 7 == 0 else ""] for i in range(ROWS)]
    fixes = {}  # row number -> (column, right value)
    for i in range(100, ROWS, 1000):  # 20 wrong check digits
        rows[i][1] = wrong_digit(rows[i][1])
        fixes[i + 2] = (1, ledger_id(i))
    for i in range(200, ROWS, 2000):  # 10 bad phones
        rows[i][2] = "12"
        fixes[i + 2] = (2, "13900001111")
    for i in range(300, ROWS, 4000):  # 5 rows under the other county's unit
        rows[i][3] = b["township"]
        fixes[i + 2] = (3, a["township"])
    rows[400][1] = rows[399][1]  # the same person twice: row 402 repeats row 401
    fixes[402] = (1, ledger_id(ROWS + 1))  # in truth another person
    rows[500][1], rows[600][1] = ours, theirs
    return rows, fixes


def upload(http, name, content, headers=None):
    response = http.client.post("/api/v1/member-imports", data={"file": (io.BytesIO(content), name)},
                                content_type="multipart/form-data",
                                headers={"Authorization": f"Bearer {http.key}", **(headers or {})})
    return response.status_code, json.loads(response.get_data(as_text=True))


def finished(http, batch_id, timeout=300):
    def done():
        status, batch = http.get(f"/api/v1/member-imports/{batch_id}")
        assert status == 200, batch
        return batch if batch["status"] in ("done", "failed") else None
    return wait_for(done, timeout=timeout, interval=0.5, message="the import to finish")


def as_csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(rows) -> bytes:
    book = Workbook()  # shared strings, as Excel and WPS save them
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download(http, path):
    response = http.client.get(path, headers={"Authorization": f"Bearer {http.key}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "attachment" in response.headers["Content-Disposition"]
    content = response.get_data()
    if path.endswith(".csv"):
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return [["" if c is None else str(c) for c in row]
            for row in load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_20000_row_ledger_imports_with_bad_rows_by_number_and_their_error_file_fixes_the_rest(
        platform, world, file_format):
    a, b = world["a"], world["b"]
    ours = register_member(a, 1)
    _status, ours_number = a["office"].get(f"/api/v1/members/{ours['id']}/id-number")
    theirs_number = ledger_id(ROWS + 2)
    status, theirs = b["office"].post("/api/v1/members", {
        "name": "外县", "id_number": theirs_number, "phone": "13800001234",
        "home_org_id": b["township"], "host_org_id": b["branch"]})
    assert status == 201
    rows, fixes = county_ledger(world, ours_number["id_number"], theirs_number)
    content = (as_csv if file_format == "csv" else as_xlsx)([HEADER] + rows)
    status, batch = upload(a["office"], f"台账.{file_format}", content)
    assert status == 202, batch
    assert batch["file_format"] == file_format and batch["status"] == "queued"
    done = finished(a["office"], batch["id"])
    assert (done["status"], done["total_rows"], done["processed_rows"]) == ("done", ROWS, ROWS)
    assert done["rows_per_second"] > 0 and done["seconds_left"] == 0
    bad = set(fixes) - {402}
    assert {e["row"] for e in done["errors"]} == bad
    assert done["invalid"] == len(bad) == 35
    assert done["duplicate_rows"] == [
        {"row": 402, "of": "file_row", "duplicate_of_row": 401, "member_id": None},
        {"row": 502, "of": "member", "duplicate_of_row": None, "member_id": ours["id"]},
        {"row": 602, "of": "member", "duplicate_of_row": None, "member_id": None}]  # not theirs
    assert done["imported"] == ROWS - 35 - 3
    before = platform.scalar("members", "SELECT count(*) FROM members")
    assert before == done["imported"] + 2
    assert platform.scalar("members", "SELECT count(*) FROM import_file_chunks") == 0
    assert world["b"]["office"].get(f"/api/v1/member-imports/{batch['id']}")[0] == 404

    table = download(a["office"], f"/api/v1/member-imports/{batch['id']}/errors.{file_format}")
    assert table[0] == ["source_row"] + HEADER + ["reason"]
    by_row = {int(r[0]): r for r in table[1:]}
    assert set(by_row) == set(fixes) | {502, 602}
    assert by_row[102][-1].startswith("id_number: check digit")
    assert by_row[402][-1] == "same ID number as row 401 of this file"
    assert by_row[602][-1] == "ID number already registered" and theirs["id"] not in str(table)
    # fixed as an office would: the bad cells corrected, the registered rows left in
    for row_number, (column, value) in fixes.items():
        by_row[row_number][1 + column] = value
    fixed = (as_csv if file_format == "csv" else as_xlsx)([table[0]] + list(by_row.values()))
    status, again = upload(a["office"], f"errors-fixed.{file_format}", fixed)
    assert status == 202, again
    again = finished(a["office"], again["id"])
    assert (again["imported"], again["invalid"], again["duplicates"]) == (len(fixes), 0, 2)
    assert platform.scalar("members", "SELECT count(*) FROM members") == before + len(fixes)


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(platform, world):
    a = world["a"]
    platform.gateway.max_upload_bytes = 200 * 1024
    rows = [[f"党员{i}", ledger_id(i), "13800001234", a["township"], a["branch"], "", ""]
            for i in range(5000)]
    content = as_csv([HEADER] + rows)
    assert len(content) > 200 * 1024
    status, body = upload(a["office"], "台账.csv", content)
    assert status == 413
    assert "upload limit" in body["error"]["message"] and "GATEWAY_MAX_UPLOAD_BYTES" in body["error"]["message"]
    assert platform.scalar("members", "SELECT count(*) FROM import_batches") == 0
    assert platform.scalar("members", "SELECT count(*) FROM members") == 0
    # other routes keep the small limit, and say which one applies
    status, body = a["office"].post("/api/v1/members", raw=json.dumps(
        {"name": "x" * (1024 * 1024 + 1)}))
    assert status == 413 and "GATEWAY_MAX_BODY_BYTES" in body["error"]["message"]
    # under the limit, the JSON form still works, and a retried upload with its key is one import
    small = as_csv([HEADER] + rows[:50])
    body = {"format": "csv", "content_base64": base64.b64encode(small).decode()}
    status, first = a["office"].post("/api/v1/member-imports", body, headers={"Idempotency-Key": "k1"})
    assert status == 202, first
    status, retried = upload(a["office"], "台账.csv", small, headers={"Idempotency-Key": "k1"})
    assert status == 202 and retried["id"] == first["id"]
    assert finished(a["office"], first["id"])["imported"] == 50
    assert platform.scalar("members", "SELECT count(*) FROM import_batches") == 1
    status, body = upload(a["office"], "台账.pdf", small)
    assert status == 400 and "format" in body["error"]["fields"]
    status, body = a["office"].post("/api/v1/member-imports", {
        "format": "csv", "content_base64": base64.b64encode(small).decode(), "size": 1})
    assert status == 400 and "size" in body["error"]["fields"]  # unknown fields are refused
    assert platform.scalar("members", "SELECT count(*) FROM import_batches") == 1
