"""收受分离 through the gateway with two different keys: a centre's desk key forwards a member's
request, the home county's office key sees the task, accepts it and answers; the desk goes on.
And the tenancy matrix: centre A cannot see centre B's queue; a county sees only its tasks."""
import pytest

from tests.fixtures import wait_for

from .helpers import build_world, register_member, wait_for_member_projection

pytestmark = pytest.mark.integration


@pytest.fixture
def world(platform):
    platform.start("members", "services_desk")
    return build_world(platform)


def submit_for_member(platform, side, serial, **extra):
    member = register_member(side, serial)
    wait_for_member_projection(platform, "services_desk", member["id"])
    status, request = side["desk"].post("/api/v1/requests", {
        "requester_member_id": member["id"], "category": "pension",
        "description": "养老保险关系转移接续", **extra})
    assert status == 201, request
    return request


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_forward_and_answer_round_trip_with_two_keys(platform, world):
    a, b = world["a"], world["b"]
    # County A makes pension a 收受分离 category for its own people.
    status, rule = a["office"].request("PUT", "/api/v1/desk/categories/pension", {
        "county_org_id": a["county"], "time_limit_days": 15,
        "materials": ["身份证", "养老保险缴费凭证"], "home_must_act": True})
    assert status == 200 and rule["county_org_id"] == a["county"], rule
    request = submit_for_member(platform, a, 70)
    assert request["home_must_act"] is True and request["requester_home_org_id"] == a["township"]
    request_id = request["id"]
    assert a["desk"].post(f"/api/v1/requests/{request_id}/claim")[0] == 200
    status, refused = a["desk"].post(f"/api/v1/requests/{request_id}/complete", {"outcome": "x"})
    assert status == 409 and refused["error"]["code"] == "invalid_transition"

    status, task = a["desk"].post(f"/api/v1/requests/{request_id}/forward",
                                  {"note": "请办理养老保险关系转出"})
    assert status == 200 and task["status"] == "open", task

    # The home county's own key sees it; nobody else does.
    status, tasks = a["office"].get("/api/v1/home-tasks")
    assert status == 200 and [t["id"] for t in tasks["items"]] == [task["id"]]
    assert tasks["items"][0]["requester_phone"] is None
    assert b["office"].get("/api/v1/home-tasks")[1]["items"] == []
    assert b["office"].get(f"/api/v1/home-tasks/{task['id']}")[0] == 404
    assert b["office"].post(f"/api/v1/home-tasks/{task['id']}/accept")[0] == 404
    assert a["host_office"].get("/api/v1/home-tasks")[1]["items"] == []
    assert a["desk"].get("/api/v1/home-tasks")[0] == 403
    assert a["desk"].post(f"/api/v1/home-tasks/{task['id']}/accept")[0] == 403
    # and the county cannot reach into the centre's request itself
    assert a["office"].get(f"/api/v1/requests/{request_id}")[0] == 404

    status, accepted = a["office"].post(f"/api/v1/home-tasks/{task['id']}/accept")
    assert status == 200 and accepted["status"] == "accepted"
    status, answered = a["office"].post(f"/api/v1/home-tasks/{task['id']}/answer", {
        "result": "approved", "note": "已转出", "reference_number": "ZJK-2026-0815"})
    assert status == 200 and answered["status"] == "answered", answered

    status, detail = a["desk"].get(f"/api/v1/requests/{request_id}")
    assert status == 200 and detail["status"] == "answer_received"
    assert detail["home_tasks"][0]["reference_number"] == "ZJK-2026-0815"
    assert [s["step"] for s in detail["steps"]] == [
        "submitted", "claimed", "forwarded", "answer_received"]
    status, done = a["desk"].post(f"/api/v1/requests/{request_id}/complete",
                                  {"outcome": "养老保险关系已转入"})
    assert status == 200 and done["status"] == "completed"
    assert done["first_owner"] == detail["first_owner"] == detail["submitted_by"]

    # The answer left the desk as an event through the outbox.
    wait_for(lambda: platform.scalar(
        "services_desk", "SELECT count(*) FROM outbox WHERE event_type = 'home_task_answered' "
                         "AND published_at IS NOT NULL") == 1,
        message="home_task_answered to be published")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_tenancy_matrix_of_queues_and_language_routing(platform, world):
    a, b = world["a"], world["b"]
    tibetan = submit_for_member(platform, a, 71, language="bo")
    b_request = submit_for_member(platform, b, 72)

    # centre A cannot see centre B's queue, and the other way round
    assert [r["id"] for r in a["desk"].get("/api/v1/requests")[1]["items"]] == [tibetan["id"]]
    assert [r["id"] for r in b["desk"].get("/api/v1/requests")[1]["items"]] == [b_request["id"]]
    assert a["desk"].get(f"/api/v1/requests/{b_request['id']}")[0] == 404
    assert a["desk"].post(f"/api/v1/requests/{b_request['id']}/accept")[0] == 404
    assert b["desk"].get("/api/v1/request-queue")[1]["items"][0]["id"] == b_request["id"]

    # Staff as data, keyed by key id: the admin registers a Tibetan speaker at centre A.
    speaker = platform.http()
    from .helpers import Http
    speaker_key = Http(speaker, platform.key("desk_staff", a["centre"], "藏语坐席"))
    status, probe = speaker_key.post("/api/v1/requests", {
        "requester_name": "探针", "category": "other", "description": "x"})
    speaker_id = probe["submitted_by"]
    status, member = world["admin"].request("PUT", f"/api/v1/desk/staff/{speaker_id}", {
        "centre_org_id": a["centre"], "name": "泽仁", "languages": ["bo"]})
    assert status == 200 and member["languages"] == ["bo", "zh"], member

    status, refused = a["desk"].post(f"/api/v1/requests/{tibetan['id']}/claim")
    assert status == 403 and "bo" in refused["error"]["message"]
    queue = speaker_key.get("/api/v1/request-queue")[1]["items"]
    assert [r["id"] for r in queue] == [tibetan["id"], probe["id"]]
    status, claimed = speaker_key.post(f"/api/v1/requests/{tibetan['id']}/claim")
    assert status == 200 and claimed["first_owner"] == speaker_id


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_new_routes_are_in_the_openapi_document(platform):
    status, document = platform.http().get("/api/v1/openapi.json"), None
    import json
    document = json.loads(status.get_data(as_text=True))
    for path in ("/api/v1/home-tasks/{task_id}/answer", "/api/v1/requests/{request_id}/extend",
                 "/api/v1/desk/calendar/{year}", "/api/v1/desk/register",
                 "/api/v1/desk/ledger.csv", "/api/v1/desk/register.xlsx",
                 "/api/v1/desk/deadline-preview", "/api/v1/service-days/{day_id}",
                 "/api/v1/request-queue", "/api/v1/requests/{request_id}/materials-missing"):
        assert path in document["paths"], path
