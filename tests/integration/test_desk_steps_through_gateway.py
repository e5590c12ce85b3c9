"""The desk's remaining steps through the gateway, on real RabbitMQ and PostgreSQL: 一次性告知
and supplement, reassignment (首问 owner kept), completion, rating and the statistics built from
it, reopening; withdrawal by the requester's side."""
import pytest

from .helpers import build_world

pytestmark = pytest.mark.integration


def key_id(http) -> str:
    return http.key.split("_")[1]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_materials_assign_complete_rate_reopen_and_withdraw(platform):
    platform.start("members", "services_desk")
    world = build_world(platform)
    a = world["a"]
    first = a["desk"]
    second = type(first)(first.client, platform.key("desk_staff", a["centre"], "desk a2"))
    for person, name in ((first, "李"), (second, "王")):
        status, body = world["admin"].request("PUT", f"/api/v1/desk/staff/{key_id(person)}", {
            "centre_org_id": a["centre"], "name": name})
        assert status == 200, body

    status, request = first.post("/api/v1/requests", {
        "requester_name": "西木拉", "category": "social_insurance", "description": "社保缴费"})
    assert status == 201, request
    rid = request["id"]
    assert first.post(f"/api/v1/requests/{rid}/claim")[0] == 200

    status, body = first.post(f"/api/v1/requests/{rid}/materials-missing",
                              {"missing": ["社保卡", "参保证明"]})
    assert status == 200 and body["status"] == "materials_missing", body
    assert body["deadline"] is None and sorted(body["materials_missing"]) == ["参保证明", "社保卡"]
    status, body = first.post(f"/api/v1/requests/{rid}/supplement", {"note": "已补齐"})
    assert status == 200 and body["status"] == "in_progress" and body["deadline"], body

    status, body = first.post(f"/api/v1/requests/{rid}/assign",
                              {"assignee": key_id(second), "reason": "轮岗"})
    assert status == 200, body
    assert body["assignee"] == key_id(second) and body["first_owner"] == key_id(first)
    status, body = second.post(f"/api/v1/requests/{rid}/complete", {"outcome": "已缴费"})
    assert status == 200 and body["status"] == "completed"
    assert body["first_owner"] == key_id(first), "首问 owner stays accountable to the end"

    # The work was handed on: the assignee records the requester's rating, not the owner.
    status, body = second.post(f"/api/v1/requests/{rid}/rating", {"score": 5, "comment": "好"})
    assert status == 200 and body["score"] == 5, body
    assert second.post(f"/api/v1/requests/{rid}/rating", {"score": 1})[0] == 409
    status, stats = first.get("/api/v1/desk/statistics")
    assert status == 200, stats
    # Ratings count for the 首问 owner, who stays accountable after the hand-off.
    assert stats["ratings_by_staff"] == [{"centre_org_id": a["centre"],
                                          "first_owner": key_id(first), "ratings": 1,
                                          "average": 5.0}]

    status, body = second.post(f"/api/v1/requests/{rid}/reopen", {"reason": "回执有误"})
    assert status == 200 and body["status"] == "in_progress", body
    status, steps = first.get(f"/api/v1/requests/{rid}")
    assert [s["step"] for s in steps["steps"]][-1] == "reopened", steps["steps"]

    status, other = first.post("/api/v1/requests", {
        "requester_name": "老乡", "category": "other", "description": "咨询"})
    assert status == 201
    assert first.post(f"/api/v1/requests/{other['id']}/withdraw", {})[0] == 400  # reason needed
    status, body = first.post(f"/api/v1/requests/{other['id']}/withdraw", {"reason": "已自行办理"})
    assert status == 200 and body["status"] == "withdrawn", body
    assert platform.scalar("services_desk", "SELECT count(*) FROM outbox WHERE event_type = "
                                            "'request_step_recorded'") > 0
