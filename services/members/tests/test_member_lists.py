"""The list endpoint's filters inside the caller's scope (worker_factory on SQLite)."""
import pytest

from services.plumbing.errors import ValidationFailed

from .world import build, id_number, office, register


@pytest.fixture
def w(service):
    world = build(service)
    world["m"] = {
        "old": register(service, world, 1, name="王老汉", id_number=id_number(1, "19600315"),
                        category="non_working_resident"),
        "young": register(service, world, 2, name="王小明", id_number=id_number(2, "19990101"),
                          category="working", occupation="company_employee",
                          host_org_id=world["branch2"]["id"]),
        "mid": register(service, world, 3, name="李娜", id_number=id_number(3, "19850610"),
                        category="stationed", home_org_id=world["township"]["id"]),
        "other": register(service, world, 4, name="王五", home_org_id=world["other_township"]["id"],
                          host_org_id=world["other_branch"]["id"], caller=office(world["other_county"])),
    }
    service.flow_step(office(world["branch"]), world["m"]["old"]["id"], "accept", {})
    service.flow_step(office(world["branch"]), world["m"]["old"]["id"], "lose_contact", {})
    return world


def names(service, caller, **params):
    return sorted(m["name"] for m in service.list_members(caller, params)["items"])


def test_filters(service, w):
    county = office(w["county"])
    assert names(service, county) == ["李娜", "王小明", "王老汉"]
    assert names(service, county, status="pending") == ["李娜", "王小明"]
    assert names(service, county, lost_contact="true") == ["王老汉"]
    assert names(service, county, lost_contact="false") == ["李娜", "王小明"]
    assert names(service, county, category="working") == ["王小明"]
    assert names(service, county, occupation="company_employee") == ["王小明"]
    assert names(service, county, host_org_id=w["branch2"]["id"]) == ["王小明"]
    assert names(service, county, host_org_id=w["committee"]["id"]) == ["李娜", "王小明", "王老汉"]
    assert names(service, county, home_org_id=w["village"]["id"]) == ["王小明", "王老汉"]
    assert names(service, county, name="王") == ["王小明", "王老汉"]
    assert names(service, county, age_min="60", as_of="2026-03-15") == ["王老汉"]
    assert names(service, county, age_min="60", as_of="2020-03-14") == []
    assert names(service, county, age_min="30", age_max="45", as_of="2026-06-10") == ["李娜"]
    assert names(service, county, age_max="40", as_of="2026-06-09") == ["李娜", "王小明"]
    # the host side sees the same members, and a filter never widens the scope
    assert names(service, office(w["branch"]), name="王") == ["王老汉"]
    assert names(service, office(w["county"]), home_org_id=w["other_county"]["id"]) == []
    assert names(service, office(w["other_committee"]), name="王") == ["王五"]


def test_bad_filters_are_field_errors(service, w):
    with pytest.raises(ValidationFailed) as error:
        service.list_members(office(w["county"]), {"status": "gone", "age_min": "-1",
                                                    "as_of": "yesterday", "colour": "red"})
    assert set(error.value.fields) == {"status", "age_min", "as_of", "colour"}
