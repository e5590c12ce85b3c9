"""The desk's and donations' tenancy projections follow the members service: when a member
moves to another host branch, or a unit moves to another parent, who may see the member changes
in the other services too."""
import pytest

from tests.fixtures import wait_for

from .helpers import build_world, register_member, wait_for_member_projection

pytestmark = pytest.mark.integration


def desk_sees(desk, member_id) -> bool:
    status, body = desk.post("/api/v1/requests", {
        "requester_member_id": member_id, "category": "other", "description": "查询"})
    if status == 201:
        return True
    assert status == 400 and "requester_member_id" in body["error"]["fields"], body
    return False


def test_member_and_unit_moves_reach_the_desk_projection(platform):
    platform.start("members", "services_desk")
    world = build_world(platform)
    a = world["a"]
    status, other_branch = world["admin"].post("/api/v1/org-units", {
        "kind": "branch", "name": "branch-a2", "parent_id": a["committee"]})
    assert status == 201, other_branch
    member = register_member(a, 90)
    wait_for_member_projection(platform, "services_desk", member["id"])
    status, body = a["branch_office"].post(f"/api/v1/members/{member['id']}/accept")
    assert status == 200 and body["status"] == "active", body
    assert desk_sees(a["desk"], member["id"])  # hosted by a branch under the centre

    # The committee moves the member to a branch outside the centre.
    status, body = a["host_office"].post(f"/api/v1/members/{member['id']}/move",
                                         {"host_org_id": other_branch["id"]})
    assert status == 200, body
    wait_for(lambda: not desk_sees(a["desk"], member["id"]), timeout=20,
             message="the desk to learn the member moved away")

    # The branch itself moves under the centre: the member is in the centre's subtree again.
    status, body = world["admin"].post(f"/api/v1/org-units/{other_branch['id']}/move",
                                       {"parent_id": a["centre"]})
    assert status == 200, body
    wait_for(lambda: desk_sees(a["desk"], member["id"]), timeout=20,
             message="the desk to learn the unit moved")
    assert platform.scalar("services_desk", "SELECT path FROM org_units_projection "
                                            "WHERE org_id = :o", o=other_branch["id"]).endswith(
        f"/{a['centre']}/{other_branch['id']}/")
