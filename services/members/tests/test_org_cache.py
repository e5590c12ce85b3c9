"""The members service's org-unit cache (issue 13): a registration does not read its units from
the database each time, and a unit changed by this process is seen at once; one changed by
another replica within ORG_CACHE_SECONDS."""
import pytest
from sqlalchemy import func, update

from services.members import orgs
from services.members.models import OrgUnit
from services.plumbing.errors import Conflict, NotFound, ValidationFailed

from .world import ADMIN, office, register


def test_a_second_registration_reads_no_org_unit_from_the_database(service, w, statements):
    register(service, w, 1)
    statements.clear()
    register(service, w, 2)
    assert [sql for sql in statements if "FROM org_units" in sql] == []


def test_a_unit_closed_here_refuses_registrations_at_once(service, w):
    spare = service.create_org_unit(ADMIN, {"kind": "village_branch", "name": "西村党支部",
                                            "parent_id": w["township"]["id"]})
    register(service, w, 1)
    with pytest.raises(Conflict):  # checked (and cached) the spare unit, then a duplicate
        register(service, w, 1, home_org_id=spare["id"])
    service.close_org_unit(ADMIN, spare["id"])
    with pytest.raises(ValidationFailed) as refused:
        register(service, w, 2, home_org_id=spare["id"])
    assert "home_org_id" in refused.value.fields


def test_a_unit_moved_here_changes_scope_at_once(service, w):
    other_office = office(w["other_county"])
    body = {"host_org_id": None}
    with pytest.raises(ValidationFailed):  # the village is not under the other county (yet)
        register(service, w, 1, caller=other_office, **body)
    service.move_org_unit(ADMIN, w["township"]["id"], {"parent_id": w["other_county"]["id"]})
    assert register(service, w, 1, caller=other_office, **body)["home_org_id"] == w["village"]["id"]


def test_a_unit_closed_by_another_replica_is_seen_within_the_bound(service, w, uow, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(orgs, "ORG_CACHE", orgs.OrgCache(clock=lambda: now[0]))
    register(service, w, 1)
    with uow.transaction() as tx:  # as another process would: this cache is not told
        tx.session.execute(update(OrgUnit).where(OrgUnit.id == w["village"]["id"])
                           .values(closed_at=orgs.utcnow()))
    now[0] += orgs.ORG_CACHE_SECONDS + 0.1
    with pytest.raises(ValidationFailed):
        register(service, w, 2)


def test_one_members_scope_from_the_cache_agrees_with_the_list_clause(service, w, uow):
    """get_member reads the member by its key and decides its scope from the cached units;
    lists decide it in SQL (visible_members_clause). Every caller, every member: the same."""
    from services.members.registry import visible_member_query
    from services.plumbing.caller import Caller
    members = [register(service, w, 1),
               register(service, w, 2, host_org_id=w["other_branch"]["id"]),
               register(service, w, 3, host_org_id=None),
               register(service, w, 4, home_org_id=w["township"]["id"],
                        host_org_id=w["branch2"]["id"])]
    callers = [ADMIN] + [office(w[name]) for name in w]
    with uow.read() as session:
        for caller_dict in callers:
            caller = Caller.of_key(caller_dict["key_id"], caller_dict["role"], caller_dict["org_id"])
            in_sql = set(session.scalars(visible_member_query(session, caller)
                                         .with_only_columns(orgs.Member.id)))
            by_cache = {m["id"] for m in members
                        if orgs.member_in_scope(session, caller, m["home_org_id"], m["host_org_id"])}
            assert by_cache == in_sql, caller_dict
    # and the entrypoint says so: a member outside the caller's subtree is not found
    assert service.get_member(office(w["other_branch"]), members[1]["id"])["id"] == members[1]["id"]
    with pytest.raises(NotFound):
        service.get_member(office(w["other_branch"]), members[0]["id"])


def test_a_second_list_page_reads_no_org_unit_from_the_database(service, w, statements):
    register(service, w, 1)
    service.list_members(office(w["county"]), {})
    statements.clear()
    assert len(service.list_members(office(w["county"]), {})["items"]) == 1
    assert [sql for sql in statements if "FROM org_units" in sql] == []


def test_a_unit_created_here_is_in_the_next_list_at_once(service, w):
    county = office(w["county"])
    assert len(service.list_members(county, {})["items"]) == 0  # the subtree is cached
    village = service.create_org_unit(ADMIN, {"kind": "village_branch", "name": "西村党支部",
                                              "parent_id": w["township"]["id"]})
    register(service, w, 1, home_org_id=village["id"])
    assert [m["home_org_id"] for m in service.list_members(county, {})["items"]] == [village["id"]]


def test_a_unit_moved_by_another_replica_is_listed_within_the_bound(service, w, uow, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(orgs, "ORG_CACHE", orgs.OrgCache(clock=lambda: now[0]))
    register(service, w, 1)
    other_office = office(w["other_county"])
    assert service.list_members(other_office, {})["items"] == []  # cached: no unit with members
    with uow.transaction() as tx:  # as another process would: this cache is not told
        for unit in ("township", "village"):
            tx.session.execute(update(OrgUnit).where(OrgUnit.id == w[unit]["id"]).values(
                path=func.replace(OrgUnit.path, f"/{w['county']['id']}/",
                                  f"/{w['other_county']['id']}/")))
    assert service.list_members(other_office, {})["items"] == []  # within the bound: not yet
    now[0] += orgs.ORG_CACHE_SECONDS + 0.1
    assert len(service.list_members(other_office, {})["items"]) == 1
