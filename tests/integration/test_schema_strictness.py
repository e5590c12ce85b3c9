"""Every schema a caller's input is loaded with, in every service and the gateway: integers in
bodies are strict (a string or a fraction is a 400, never "5" taken as 5 or 1.5 stored as 1),
numbers in bodies are JSON numbers, and every date has a plausible range. Then the same
through the gateway on PostgreSQL for the cases found from the outside."""
import importlib

import pytest
from marshmallow import fields

from gateway.routes import ROUTES
from services.plumbing.fields import Day, StrictDecimal

from .helpers import build_world, register_member

pytestmark = pytest.mark.integration


def schema_of(ref):
    module, name = ref.split(":")
    schema = getattr(importlib.import_module(module), name)
    return schema() if isinstance(schema, type) else schema


def input_fields(schema, path=""):
    """(dotted name, field) of every field a schema loads, nested schemas and lists included."""
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        yield from _walk(field, f"{path}{name}")


def _walk(field, name):
    yield name, field
    if isinstance(field, fields.Nested):
        yield from input_fields(field.schema, f"{name}.")
    elif isinstance(field, fields.List):
        yield from _walk(field.inner, f"{name}[]")
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield from _walk(field.value_field, f"{name}{{}}")


def test_every_body_integer_is_strict_and_every_number_a_number():
    lax = [f"{route.name}: {name}" for route in ROUTES if route.body
           for name, field in input_fields(schema_of(route.body))
           if (isinstance(field, fields.Integer) and not field.strict)
           or (isinstance(field, fields.Decimal) and not isinstance(field, StrictDecimal))]
    assert lax == []


def test_every_date_a_caller_sends_has_a_plausible_range():
    unbounded = [f"{route.name}: {name}" for route in ROUTES
                 for ref in (route.body, route.query) if ref
                 for name, field in input_fields(schema_of(ref))
                 if isinstance(field, fields.Date) and not isinstance(field, Day)]
    assert unbounded == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_strings_fractions_and_implausible_dates_are_400_through_the_gateway(platform):
    platform.start("members", "services_desk")
    world = build_world(platform)
    a = world["a"]
    office, admin = a["office"], world["admin"]
    member = register_member(a, 9)
    for points in ("5", 1.5, True):
        status, body = office.post(f"/api/v1/members/{member['id']}/points", {
            "points": points, "reason": "学习", "earned_on": "2026-03-01"})
        assert status == 400 and "points" in body["error"]["fields"], (points, body)
    assert platform.scalar("members", "SELECT count(*) FROM point_entries") == 0
    for query in ({"as_of": "0001-01-01", "age_max": "10"}, {"as_of": "9999-12-31"}):
        status, body = office.get("/api/v1/members", query=query)
        assert status == 400 and "as_of" in body["error"]["fields"], body
        status, body = office.get("/api/v1/care/elderly", query=query)
        assert status == 400 and "as_of" in body["error"]["fields"], body
    status, activity = office.post("/api/v1/activities", {
        "org_id": a["township"], "kind": "volunteer_service", "title": "义务植树",
        "held_on": "2026-03-12"})
    assert status == 201, activity
    status, body = office.post(f"/api/v1/activities/{activity['id']}/attendance",
                               {"member_id": member["id"], "volunteer_hours": "8"})
    assert status == 400 and "volunteer_hours" in body["error"]["fields"], body
    for held_on in ("0001-01-01", "9999-12-31"):
        status, body = office.post("/api/v1/activities", {
            "org_id": a["township"], "kind": "themed_party_day", "title": "主题党日",
            "held_on": held_on})
        assert status == 400 and "held_on" in body["error"]["fields"], body
    status, body = admin.post("/api/v1/keys", {"role": "ops", "name": "born dead",
                                               "expires_at": "2020-01-01T00:00:00+08:00"})
    assert status == 400 and "expires_at" in body["error"]["fields"], body
    desk = a["desk"]
    status, request = desk.post("/api/v1/requests", {"requester_name": "西木拉",
                                                     "category": "pension", "description": "认证"})
    assert status == 201, request
    for score in ("5", 4.5):
        status, body = desk.post(f"/api/v1/requests/{request['id']}/rating", {"score": score})
        assert status == 400 and "score" in body["error"]["fields"], (score, body)
    status, body = desk.post("/api/v1/service-days", {"day": "9999-12-31", "site": "集市"})
    assert status == 400 and "day" in body["error"]["fields"], body
