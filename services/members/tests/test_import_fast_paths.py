"""The import's fast paths say what the slow ones say: the compiled row check (FastLoad) loads
exactly what MemberCreateSchema loads and leaves every row it cannot pass to the schema, so a
row's messages are the same; and an import prepared ahead (as on PostgreSQL, while the batch
before is written) reports and imports exactly what one prepared in turn does."""
import base64
import csv
import io

import pytest
from marshmallow import Schema, ValidationError, fields, pre_load
from sqlalchemy import func, select

from services.members import bulk
from services.members.fast_load import FastLoad
from services.members.ledger_rows import FieldChecker
from services.members.models import PLUMBING, FlowRecord, Member
from services.members.registry import check_orgs
from services.members.schemas import MemberCreateSchema, Text
from services.plumbing.caller import Caller
from services.plumbing.errors import ValidationFailed

from .world import crash_import_at_second_batch, id_number, office, received, register

HOME, HOST = "h" * 36, "b" * 36
GOOD = {"name": "张三", "id_number": id_number(1), "phone": "13800001234", "home_org_id": HOME,
        "host_org_id": HOST, "category": "working", "occupation": "migrant_worker",
        "joined_party_on": "2005-07-01", "languages": ["普通话", "藏语"], "skills": ["电工"],
        "notes": "驻京"}
MINIMAL = {k: GOOD[k] for k in ("name", "id_number", "phone", "home_org_id")}

# (what, the body's changes; None deletes) and whether the fast path must take the row itself.
CASES = [
    ("every column", {}, True),
    ("only the required columns", {"host_org_id": None, "category": None, "occupation": None,
                                   "joined_party_on": None, "languages": None, "skills": None,
                                   "notes": None}, True),
    ("spaces around the name", {"name": "  张三 "}, True),
    ("a blank name", {"name": "   "}, False),
    ("a name of 100 characters", {"name": "名" * 100}, True),
    ("a name of 101 characters", {"name": "名" * 101}, False),
    ("a full-width name", {"name": "ＺＨＡＮＧ　三"}, True),
    ("a Tibetan name", {"name": "བཀྲ་ཤིས།"}, True),
    ("a NUL in the name", {"name": "张\x00三"}, False),
    ("a lone surrogate in the notes", {"notes": "\ud800"}, False),
    ("an empty name", {"name": ""}, False),
    ("a name that is no string", {"name": 12}, False),
    ("a name given as null", {"name": None, "_keep_none": True}, False),
    ("a landline with a dash", {"phone": "0394-1234567"}, True),
    ("a landline without one", {"phone": "01012345678"}, True),
    ("a full-width mobile", {"phone": "１３８００００１２３４"}, False),
    ("a short phone", {"phone": "12"}, False),
    ("a phone with a newline after it", {"phone": "13800001234\n"}, True),
    ("a phone as a number", {"phone": 13800001234}, False),
    ("a compact date", {"joined_party_on": "20050701"}, True),
    ("a week date", {"joined_party_on": "2005-W01-1"}, True),
    ("a date without leading zeros", {"joined_party_on": "2005-7-1"}, False),
    ("a full-width date", {"joined_party_on": "２００５-07-01"}, False),
    ("a date and time", {"joined_party_on": "2005-07-01T08:00"}, False),
    ("a date before 1900", {"joined_party_on": "1899-12-31"}, False),
    ("the last date there is", {"joined_party_on": "2100-12-31"}, True),
    ("a date after it", {"joined_party_on": "2101-01-01"}, False),
    ("an impossible date", {"joined_party_on": "2005-02-30"}, False),
    ("an unknown category", {"category": "tourist"}, False),
    ("an unknown occupation", {"occupation": "farmer"}, False),
    ("no languages", {"languages": []}, True),
    ("twenty languages", {"languages": [f"语{i}" for i in range(20)]}, True),
    ("twenty-one languages", {"languages": [f"语{i}" for i in range(21)]}, False),
    ("a skill of 51 characters", {"skills": ["技" * 51]}, False),
    ("an empty skill", {"skills": [""]}, False),
    ("languages as a string", {"languages": "普通话"}, False),
    ("notes of 2,000 characters", {"notes": "记" * 2000}, True),
    ("notes of 2,001 characters", {"notes": "记" * 2001}, False),
    ("a home org id of 37 characters", {"home_org_id": "h" * 37}, False),
    ("a host org given as null", {"host_org_id": None, "_keep_none": True}, True),
    ("an unknown column", {"mood": "good"}, False),
    ("an ID number with a wrong check digit", {"id_number": id_number(1)[:-1] + "0"}, True),
    ("an ID number of 15 digits", {"id_number": "110105800101001"}, True),
]


def body_of(changes, base=GOOD):
    body, changes = dict(base), dict(changes)
    keep_none = changes.pop("_keep_none", False)
    for key, value in changes.items():
        if value is None and not keep_none:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(("what", "changes", "fast"), CASES, ids=[c[0] for c in CASES])
def test_the_compiled_check_loads_exactly_what_the_schema_loads(what, changes, fast):
    schema = MemberCreateSchema()
    body = body_of(changes)
    try:
        expected = schema.load(body)
    except ValidationError:
        expected = None
    loaded = FastLoad(schema)(body)
    if fast:
        assert expected is not None and loaded == expected
        assert {k: type(v) for k, v in loaded.items()} == {k: type(v) for k, v in expected.items()}
    else:
        assert loaded is None  # the schema loads it (or says what is wrong)


def test_the_minimal_row_gets_the_schema_defaults():
    schema = MemberCreateSchema()
    assert FastLoad(schema)(dict(MINIMAL)) == schema.load(dict(MINIMAL))


def test_a_schema_feature_the_compiled_check_does_not_know_turns_it_off():
    class Hooked(Schema):
        name = Text(required=True)

        @pre_load
        def _tidy(self, data, **_kwargs):
            return data

    class Renamed(Schema):
        name = Text(required=True, data_key="Name")

    class Emailed(Schema):
        email = fields.Email(required=True)

    for schema_cls in (Hooked, Renamed, Emailed):
        fast = FastLoad(schema_cls())
        assert not fast.enabled and fast({"name": "x", "Name": "x", "email": "a@b.cn"}) is None
    assert FastLoad(MemberCreateSchema()).enabled


def outcome(checker, session, caller, body):
    """A row's fields checked as the import checks them, then its org units (bulk.prepare_rows)."""
    try:
        data, number = checker.check(dict(body))
        orgs = check_orgs(session, caller, data["home_org_id"], data.get("host_org_id"))
    except ValidationFailed as exc:
        return "invalid", exc.fields
    return "valid", (data, number, orgs)


def test_import_rows_get_the_same_data_and_messages_with_and_without_the_fast_path(service, w, uow):
    caller = Caller.recorded("k-county", "office", w["county"]["id"])
    village, branch, theirs = w["village"]["id"], w["branch"]["id"], w["other_township"]["id"]
    rows = [{**GOOD, "home_org_id": village, "host_org_id": branch}]
    rows += [body_of(changes, rows[0]) for _what, changes, _fast in CASES]
    rows += [{**rows[0], "home_org_id": theirs}, {**rows[0], "home_org_id": "no-such-unit"},
             {**rows[0], "host_org_id": village},
             {**rows[0], "id_number": id_number(1)[:-1] + "0", "home_org_id": theirs},
             {**rows[0], "phone": "12", "id_number": "1101058001010"},
             {**rows[0], "id_number": "110105180001010013"}]
    seen = set()
    with uow.read() as session:
        fast, slow = FieldChecker(), FieldChecker()
        slow.fast_load.enabled = False
        for row in rows:
            body = {k: v for k, v in row.items() if v is not None}
            assert outcome(fast, session, caller, body) == outcome(slow, session, caller, body), body
            seen.add(outcome(slow, session, caller, body)[0])
    assert seen == {"valid", "invalid"}


HEADER = ["name", "id_number", "phone", "home_org_id", "host_org_id", "category", "languages",
          "joined_party_on"]


def ledger(w):
    rows = [[f"导入{i}", id_number(i), "13800001234", w["village"]["id"], w["branch"]["id"],
             "working", "普通话;藏语" if i % 2 else "", "2005-07-01"] for i in range(100, 117)]
    rows[3][1] = rows[3][1][:-1] + ("0" if rows[3][1][-1] != "0" else "1")  # a wrong check digit
    rows[5][2] = "１３８"                                                        # a full-width phone
    rows[7][7] = "2005-13-01"                                                    # no such month
    rows[9][3] = w["other_township"]["id"]                                       # not the county's
    rows.insert(11, [])                                                          # a blank line
    rows.append(list(rows[2]))                                                   # row 4 again
    rows.append(list(rows[0]))                                                   # row 2 again
    return rows


def csv_body(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER] + rows)
    return {"format": "csv", "content_base64": base64.b64encode(buffer.getvalue().encode()).decode()}


def import_all(service, uow, w, monkeypatch, ahead):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 4)  # rows 2-5, 6-9, …: duplicates across batches
    monkeypatch.setattr(bulk, "is_postgresql", lambda _session: ahead)
    county = office(w["county"])
    batch = service.start_import(county, csv_body(ledger(w)))
    service.on_member_import_requested(received(
        uow, "member_import_requested", "on_member_import_requested", batch_id=batch["id"]))
    report = service.get_import(county, batch["id"])
    with uow.read() as session:
        members = session.execute(select(Member.name, Member.import_row, Member.languages,
                                         Member.joined_party_on).order_by(Member.import_row)).all()
        history = session.scalar(select(func.count()).select_from(FlowRecord))
        registered = session.execute(select(PLUMBING.outbox.c.envelope).where(
            PLUMBING.outbox.c.event_type == "member_registered")).scalars().all()
    errors = service.import_error_file(county, batch["id"], "csv")["content_base64"]
    return report, members, history, registered, base64.b64decode(errors).decode("utf-8-sig")


@pytest.mark.parametrize("ahead", [False, True], ids=["in turn", "ahead"])
def test_an_import_prepared_ahead_imports_and_reports_what_one_prepared_in_turn_does(
        service, w, uow, monkeypatch, ahead):
    register(service, w, 104)  # row 6 is registered already
    report, members, history, registered, errors = import_all(service, uow, w, monkeypatch, ahead)
    assert (report["status"], report["processed_rows"], report["total_rows"]) == ("done", 20, 20)
    assert (report["imported"], report["duplicates"], report["invalid"]) == (12, 3, 4)
    assert sorted(e["row"] for e in report["errors"]) == [5, 7, 9, 11]
    assert [(d["row"], d["of"], d["duplicate_of_row"]) for d in report["duplicate_rows"]] == [
        (6, "member", None), (20, "file_row", 4), (21, "file_row", 2)]
    assert [m.import_row for m in members if m.import_row] == [2, 3, 4, 8, 10, 12, 14, 15, 16, 17, 18, 19]
    by_row = {m.import_row: m for m in members}
    assert by_row[3].languages == ["普通话", "藏语"] and by_row[2].languages == []
    assert str(by_row[2].joined_party_on) == "2005-07-01"
    assert history == 13 and len(registered) == 13  # the member registered first, and the file's
    assert sorted(e["data"]["name"] for e in registered if e["data"]["name"].startswith("导入")) == \
        sorted(m.name for m in members if m.import_row)
    lines = errors.splitlines()
    assert [line.split(",")[0] for line in lines] == ["source_row", "5", "6", "7", "9", "11", "20", "21"]
    assert "ID number already registered (member " in lines[2]
    assert "same ID number as row 4 of this file" in lines[6]


@pytest.mark.parametrize("ahead", [False, True], ids=["in turn", "ahead"])
def test_a_file_unreadable_midway_fails_after_the_batches_before_it_either_way(
        service, w, uow, monkeypatch, ahead):
    real_prepare, calls = bulk.prepare_rows, []

    def unreadable_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise bulk.UnreadableFile("not a readable csv file: Error")
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(bulk, "prepare_rows", unreadable_third_batch)
    report = import_all(service, uow, w, monkeypatch, ahead)[0]
    assert (report["status"], report["processed_rows"], report["imported"]) == ("failed", 8, 5)
    assert report["failure"] == "not a readable csv file: Error (from row 10)"


@pytest.mark.parametrize("ahead", [False, True], ids=["in turn", "ahead"])
def test_an_import_that_crashed_while_batches_were_prepared_ahead_resumes(
        service, w, uow, monkeypatch, ahead):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 4)
    monkeypatch.setattr(bulk, "is_postgresql", lambda _session: ahead)
    county = office(w["county"])
    batch = service.start_import(county, csv_body(ledger(w)))
    crash_import_at_second_batch(monkeypatch)
    event = received(uow, "member_import_requested", "on_member_import_requested", batch_id=batch["id"])
    with pytest.raises(RuntimeError):
        service.on_member_import_requested(event)
    assert service.get_import(county, batch["id"])["processed_rows"] == 4
    service.on_member_import_requested(event)  # the redelivery
    done = service.get_import(county, batch["id"])
    assert (done["status"], done["imported"], done["duplicates"], done["invalid"]) == ("done", 13, 2, 4)
