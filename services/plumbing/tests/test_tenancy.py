"""The tenancy projection other services keep from members' events."""
import pytest
from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.db import make_engine
from services.plumbing.tenancy import ProjectionBehind, Tenancy, tenancy_tables


@pytest.fixture
def session(tmp_path):
    metadata = MetaData()
    tenancy = Tenancy(tenancy_tables(metadata))
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    metadata.create_all(engine)
    with Session(engine) as session:
        session.tenancy = tenancy
        yield session
    engine.dispose()


def org(session, org_id, path, parent=None):
    session.tenancy.apply_org_unit_registered(session, {
        "org_id": org_id, "parent_id": parent, "kind": "branch", "name": org_id, "path": path})


def office(org_id):
    return Caller.of_key("k", "office", org_id)


def flow(member_id, host, seq, home="county"):
    return {"member_id": member_id, "home_org_id": home, "host_org_id": host, "flow_seq": seq}


def test_a_flow_step_moves_the_member_between_host_subtrees_and_late_steps_do_not_undo_it(session):
    tenancy = session.tenancy
    org(session, "county", "/county/")
    org(session, "committee", "/committee/")
    org(session, "branch-1", "/committee/branch-1/", "committee")
    org(session, "other", "/other/")
    tenancy.apply_members_registered(session, [{"member_id": "m", "name": "x",
                                                "home_org_id": "county", "host_org_id": "branch-1"}])
    assert tenancy.member_visible(session, office("committee"), "m")
    tenancy.apply_member_flow(session, flow("m", "other", seq=5))
    assert not tenancy.member_visible(session, office("committee"), "m")
    assert tenancy.member_visible(session, office("other"), "m")
    assert tenancy.member_visible(session, office("county"), "m")
    tenancy.apply_member_flow(session, flow("m", "branch-1", seq=3))  # late: ignored
    assert tenancy.member_visible(session, office("other"), "m")
    tenancy.apply_member_flow(session, flow("m", None, seq=6))  # returned home: no host
    assert not tenancy.member_visible(session, office("other"), "m")


def test_a_flow_step_before_the_registration_waits(session):
    with pytest.raises(ProjectionBehind):
        session.tenancy.apply_member_flow(session, flow("unknown", "x", seq=1))


def test_moving_a_unit_rewrites_its_whole_subtree_once(session):
    tenancy = session.tenancy
    org(session, "a", "/a/")
    org(session, "b", "/b/")
    org(session, "x", "/a/x/", "a")
    org(session, "y", "/a/x/y/", "x")
    move = {"org_id": "x", "parent_id": "b", "old_path": "/a/x/", "new_path": "/b/x/"}
    tenancy.apply_org_unit_moved(session, move)
    tenancy.apply_org_unit_moved(session, move)  # a redelivery changes nothing
    assert tenancy.org_path(session, "x") == "/b/x/"
    assert tenancy.org_path(session, "y") == "/b/x/y/"
    assert tenancy.org_in_scope(session, office("b"), "y")
    assert not tenancy.org_in_scope(session, office("a"), "y")
    with pytest.raises(ProjectionBehind):
        tenancy.apply_org_unit_moved(session, {"org_id": "y", "parent_id": "a",
                                               "old_path": "/a/x/y/", "new_path": "/a/y/"})


def test_paths_are_remembered_briefly_and_forgotten_when_a_unit_moves_here(session):
    """Issue 13: scoping reads the caller's path on every request. A move applied by this
    process is seen at once; one applied by another replica within PATH_CACHE_SECONDS."""
    from sqlalchemy import update

    from services.plumbing import tenancy as tenancy_module
    now = [100.0]
    tenancy = Tenancy(session.tenancy.tables, clock=lambda: now[0])
    session.tenancy = tenancy
    org(session, "a", "/a/")
    org(session, "b", "/b/")
    org(session, "x", "/a/x/", "a")
    assert tenancy.caller_prefix(session, office("x")) == "/a/x/"
    table = tenancy.tables.org_units
    # another replica rewrites the path: not seen here until the entry expires
    session.execute(update(table).where(table.c.org_id == "x").values(path="/b/x/"))
    assert tenancy.org_path(session, "x") == "/a/x/"
    now[0] += tenancy_module.PATH_CACHE_SECONDS + 0.1
    assert tenancy.org_path(session, "x") == "/b/x/"
    # a move applied here: forgotten at once
    tenancy.apply_org_unit_moved(session, {"org_id": "x", "parent_id": "a",
                                           "old_path": "/b/x/", "new_path": "/a/x/"})
    assert tenancy.caller_prefix(session, office("x")) == "/a/x/"
    # an unknown unit is never remembered: it is found as soon as it is projected
    assert tenancy.caller_prefix(session, office("late")) == "/nothing/"
    org(session, "late", "/late/")
    assert tenancy.caller_prefix(session, office("late")) == "/late/"
