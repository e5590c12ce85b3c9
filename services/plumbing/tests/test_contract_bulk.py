"""EventContract.envelopes for thousands of payloads: a schema of plain fields checks each shape
of payload once and dumps the rest the same way; every payload still gets exactly the schema's
dump, and a payload that does not fit still fails."""
from datetime import UTC, date, datetime

import pytest
from marshmallow import Schema, fields, validate

from services.plumbing.contract import (
    _ROUND_TRIPS,
    ContractMismatch,
    EventContract,
    _plain_dump,
    _plain_fields,
)


class Registered(Schema):
    member_id = fields.String(required=True)
    home_org_id = fields.String(required=True)
    host_org_id = fields.String(required=True, allow_none=True)
    rank = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    born = fields.Date(required=True, allow_none=True)
    registered_at = fields.DateTime(required=True)


class Checked(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["pending", "active"]))


REGISTERED = EventContract("test", "registered", 1, Registered)
CHECKED = EventContract("test", "checked", 1, Checked)


def payload(i, **changes):
    base = {"registered_at": datetime(2026, 12, 1, 8, 0, i, tzinfo=UTC), "member_id": f"m{i}",
            "home_org_id": "home", "host_org_id": None if i % 3 else "host", "rank": i,
            "active": bool(i % 2), "born": date(1980, 1, 1) if i % 4 else None}
    base.update(changes)
    return base


def test_every_payload_gets_the_schema_s_own_dump_in_the_schema_s_order():
    payloads = [payload(i) for i in range(40)]
    envelopes = REGISTERED.envelopes(payloads)
    schema = Registered()
    assert [e["data"] for e in envelopes] == [schema.dump(p) for p in payloads]
    assert all(list(e["data"]) == list(schema.fields) for e in envelopes)
    assert len({e["event_id"] for e in envelopes}) == 40
    assert {(e["producer"], e["event_type"], e["version"]) for e in envelopes} == {("test", "registered", 1)}


def test_a_value_of_another_type_is_dumped_by_the_schema_itself():
    # marshmallow dumps a moment given for a day as its day (date.isoformat): the plain dump
    # would not, so such a payload never takes it
    odd = payload(5, born=datetime(2026, 12, 1, 8, tzinfo=UTC), rank=True)
    envelopes = REGISTERED.envelopes([payload(1), payload(5), odd])
    assert envelopes[2]["data"] == Registered().dump(odd)
    assert envelopes[2]["data"]["born"] == "2026-12-01"


@pytest.mark.parametrize("bad", [
    {"member_id": None},            # null where the contract has none
    {"rank": None},
    {"registered_at": None},
    {"active": None},
])
def test_a_payload_that_does_not_fit_fails_even_after_many_that_did(bad):
    payloads = [payload(i) for i in range(30)] + [payload(30, **bad)]
    with pytest.raises(ContractMismatch):
        REGISTERED.envelopes(payloads)


def test_a_payload_missing_a_field_fails():
    incomplete = payload(1)
    del incomplete["home_org_id"]
    with pytest.raises(ContractMismatch):
        REGISTERED.envelopes([payload(0), payload(3), incomplete])


def test_a_schema_with_validators_checks_every_payload():
    assert _plain_fields(Checked) is None
    CHECKED.envelopes([{"status": "pending"}, {"status": "active"}])
    with pytest.raises(ContractMismatch):
        CHECKED.envelopes([{"status": "pending"}, {"status": "pending"}, {"status": "gone"}])


@pytest.mark.parametrize("field_class", list(_ROUND_TRIPS))
def test_what_a_plain_field_dumps_from_a_value_of_its_type_loads_back(field_class):
    samples = {str: ["", "党员 ༀ", "x" * 5000], int: [0, -1, 2**70], bool: [True, False],
               datetime: [datetime(1, 1, 1), datetime(2026, 12, 1, 8, tzinfo=UTC), datetime.now()],
               date: [date(1, 1, 1), date(9999, 12, 31)]}

    class One(Schema):
        value = field_class(required=True)

    schema = One()
    for kind in _ROUND_TRIPS[field_class]:
        for value in samples[kind]:
            dumped = schema.dump({"value": value})
            assert schema.validate(dumped) == {}
            assert _plain_dump(_plain_fields(One), {"value": value}) == dumped


def test_a_shape_is_checked_once_across_calls_and_a_misfit_still_fails(monkeypatch):
    # One event a call (a registration): after the first, its shape is known and the schema
    # neither dumps nor validates again; a payload of another shape still goes through it.
    class Once(Schema):
        member_id = fields.String(required=True)
        host_org_id = fields.String(required=True, allow_none=True)
        registered_at = fields.DateTime(required=True)

    contract = EventContract("test", "once", 1, Once)
    dumps = []
    real_dump = Once.dump
    monkeypatch.setattr(Once, "dump", lambda self, obj, **kw: dumps.append(1) or real_dump(self, obj, **kw))
    payloads = [{"member_id": f"m{i}", "host_org_id": None,
                 "registered_at": datetime(2026, 12, 1, 8, 0, i, tzinfo=UTC)} for i in range(5)]
    envelopes = [contract.envelope(p) for p in payloads]
    assert len(dumps) == 1
    assert [e["data"] for e in envelopes] == [real_dump(Once(), p) for p in payloads]
    with pytest.raises(ContractMismatch):
        contract.envelope({"member_id": None, "host_org_id": None,
                           "registered_at": datetime(2026, 12, 1, tzinfo=UTC)})
    with pytest.raises(ContractMismatch):
        contract.envelope({"member_id": "m", "registered_at": datetime(2026, 12, 1, tzinfo=UTC)})
