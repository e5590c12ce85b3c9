"""Member record fields, org units with kind/parent/city/contact, moving and closing units,
subtrees with member counts (worker_factory on SQLite)."""
import pytest
from sqlalchemy import select

from services.members.models import OrgUnit
from services.plumbing.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .world import ADMIN, id_number, office, outbox, register


def test_record_fields_and_derived_gender_and_birth_date(service, w):
    member = register(service, w, 1, name="བཀྲ་ཤིས་", id_number=id_number(1, "19560229"),
                      joined_party_on="1985-07-01", category="non_working_resident",
                      occupation="migrant_worker", languages=["藏语", "普通话"],
                      skills=["电工"], notes="照看孙辈")
    assert member["name"] == "བཀྲ་ཤིས་"
    assert member["birth_date"] == "1956-02-29"
    assert member["gender"] == "male"  # serial 001: the 17th digit is odd
    assert register(service, w, 2)["gender"] == "female"
    assert member["joined_party_on"] == "1985-07-01"
    assert (member["category"], member["occupation"]) == ("non_working_resident", "migrant_worker")
    assert member["languages"] == ["藏语", "普通话"] and member["skills"] == ["电工"]
    assert member["status"] == "pending"
    assert register(service, w, 3, host_org_id=None)["status"] == "registered"


def test_traditional_chinese_name_and_legacy_15_digit_number(service, w):
    member = register(service, w, 4, name="陳國強", id_number="110105491231002")
    assert member["name"] == "陳國強" and member["birth_date"] == "1949-12-31"


def test_record_field_validation(service, w):
    with pytest.raises(ValidationFailed) as error:
        register(service, w, 5, category="tourist", occupation="x", languages="藏语",
                 joined_party_on="not a date")
    assert set(error.value.fields) == {"category", "occupation", "languages", "joined_party_on"}


def test_update_member_fields_but_not_status_or_orgs(service, w):
    member = register(service, w, 6)
    updated = service.update_member(office(w["branch"]), member["id"],
                                    {"occupation": "business_owner", "skills": ["厨师"]})
    assert updated["occupation"] == "business_owner" and updated["skills"] == ["厨师"]
    with pytest.raises(ValidationFailed) as error:
        service.update_member(office(w["county"]), member["id"],
                              {"status": "active", "host_org_id": w["branch2"]["id"]})
    assert set(error.value.fields) == {"status", "host_org_id"}
    with pytest.raises(NotFound):
        service.update_member(office(w["other_county"]), member["id"], {"notes": "x"})


def test_full_id_number_only_for_the_home_side(service, w):
    member = register(service, w, 7)
    assert member["id_number"] == id_number(7)[:6] + "********" + id_number(7)[-4:]
    assert service.reveal_id_number(office(w["county"]), member["id"]) == {"id_number": id_number(7)}
    assert service.reveal_id_number(ADMIN, member["id"]) == {"id_number": id_number(7)}
    with pytest.raises(Forbidden):
        service.reveal_id_number(office(w["branch"]), member["id"])
    with pytest.raises(NotFound):
        service.reveal_id_number(office(w["other_county"]), member["id"])


def test_org_units_carry_kind_parent_city_and_contact(service, w):
    county = service.get_org_unit(office(w["county"]), w["county"]["id"])
    assert county["city"] == "周口" and county["contact"].startswith("王主任")
    assert w["branch"]["parent_id"] == w["second"]["id"]
    with pytest.raises(ValidationFailed):
        service.create_org_unit(ADMIN, {"kind": "branch", "name": "x",
                                        "parent_id": w["township"]["id"]})


def test_moving_a_unit_rewrites_its_subtree_paths_and_emits_one_event(service, w, uow):
    register(service, w, 8)
    service.create_org_unit(ADMIN, {"kind": "branch", "name": "x", "parent_id": w["branch"]["id"]})
    moved = service.move_org_unit(ADMIN, w["second"]["id"], {"parent_id": w["other_committee"]["id"]})
    assert moved["parent_id"] == w["other_committee"]["id"]
    assert moved["path"] == w["other_committee"]["path"] + w["second"]["id"] + "/"
    with uow.read() as session:
        paths = {o.id: o.path for o in session.scalars(select(OrgUnit))}
    assert paths[w["branch"]["id"]] == moved["path"] + w["branch"]["id"] + "/"
    assert paths[w["branch2"]["id"]] == moved["path"] + w["branch2"]["id"] + "/"
    # tenancy follows the tree: the old committee no longer sees the branch's member
    assert service.list_members(office(w["committee"]), {})["items"] == []
    assert len(service.list_members(office(w["other_committee"]), {})["items"]) == 1
    [event] = outbox(uow, "org_unit_moved")
    assert event["data"]["old_path"] == w["second"]["path"]
    assert event["data"]["new_path"] == moved["path"]


def test_moving_refuses_cycles_other_trees_and_foreign_parents(service, w):
    with pytest.raises(ValidationFailed):
        service.move_org_unit(ADMIN, w["committee"]["id"], {"parent_id": w["branch"]["id"]})
    with pytest.raises(ValidationFailed):
        service.move_org_unit(ADMIN, w["branch"]["id"], {"parent_id": w["county"]["id"]})
    with pytest.raises(ValidationFailed):
        service.move_org_unit(office(w["committee"]), w["branch"]["id"],
                              {"parent_id": w["other_committee"]["id"]})
    with pytest.raises(NotFound):
        service.move_org_unit(office(w["other_committee"]), w["branch"]["id"],
                              {"parent_id": w["other_committee"]["id"]})


def test_closing_a_unit_is_refused_while_it_has_members(service, w, uow):
    member = register(service, w, 9)
    with pytest.raises(Conflict):
        service.close_org_unit(ADMIN, w["branch"]["id"])
    with pytest.raises(Conflict):  # an open unit below
        service.close_org_unit(ADMIN, w["second"]["id"])
    service.flow_step(office(w["branch"]), member["id"], "refuse", {"reason": "不在本支部"})
    closed = service.close_org_unit(ADMIN, w["branch"]["id"])
    assert closed["closed_at"]
    with pytest.raises(Conflict):
        service.close_org_unit(ADMIN, w["branch"]["id"])
    with pytest.raises(ValidationFailed):
        register(service, w, 10)  # cannot flow into a closed branch
    assert len(outbox(uow, "org_unit_closed")) == 1


def test_subtree_lists_member_counts(service, w):
    register(service, w, 11)
    register(service, w, 12, host_org_id=w["branch2"]["id"])
    register(service, w, 13, home_org_id=w["township"]["id"], host_org_id=None)
    subtree = service.org_subtree(office(w["committee"]), w["committee"]["id"])["items"]
    by_name = {row["org"]["name"]: row for row in subtree}
    assert by_name["丰台支部"]["host_members"] == 1
    assert by_name["驻京流动党委"]["subtree_host_members"] == 2
    assert by_name["丰台二级流动党委"]["host_members"] == 0
    home = {r["org"]["name"]: r for r in service.org_subtree(office(w["county"]), w["county"]["id"])["items"]}
    assert home["淮阳区"]["subtree_home_members"] == 3
    assert home["城关镇"]["home_members"] == 1 and home["东村党支部"]["home_members"] == 2
    with pytest.raises(NotFound):
        service.org_subtree(office(w["other_county"]), w["county"]["id"])


def test_unstorable_text_is_a_400_and_odd_path_ids_are_404(service, w):
    for name in ("a\x00b", "\ud83d"):
        with pytest.raises(ValidationFailed) as error:
            service.create_org_unit(ADMIN, {"kind": "county", "name": name})
        assert "name" in error.value.fields
        with pytest.raises(ValidationFailed):
            service.list_members(office(w["county"]), {"name": name})
    for odd in ("x\x00", "\udc80", "x" * 37):
        with pytest.raises(NotFound):
            service.get_member(office(w["county"]), odd)
        with pytest.raises(NotFound):
            service.get_org_unit(ADMIN, odd)
        with pytest.raises(NotFound):
            service.get_notice(office(w["county"]), odd)
