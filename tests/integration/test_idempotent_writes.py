"""Every creating POST takes an Idempotency-Key: a retry returns the first result and creates
nothing more, the same key with another body is 409, and two copies sent at once make one."""
import eventlet
import pytest

from tests.fixtures import wait_for
from tests.integration.helpers import build_world, id_number

pytestmark = pytest.mark.integration


@pytest.fixture
def world(platform):
    platform.start()
    return build_world(platform)


def _creating_requests(world):
    """(who, path, body, service, table) for the creating routes the services answer."""
    a = world["a"]
    return [
        (world["admin"], "/api/v1/org-units", {"kind": "branch", "name": "新支部",
                                               "parent_id": a["committee"]},
         "members", "org_units"),
        (a["office"], "/api/v1/members", {"name": "重试", "id_number": id_number(701),
                                          "phone": "13800001234", "home_org_id": a["township"],
                                          "host_org_id": a["branch"]},
         "members", "members"),
        (a["desk"], "/api/v1/requests", {"requester_name": "西木拉", "category": "social_insurance",
                                         "description": "社保缴费"},
         "services_desk", "requests"),
        (a["branch_office"], "/api/v1/activities", {"org_id": a["branch"],
                                                    "kind": "themed_party_day",
                                                    "title": "主题党日", "held_on": "2026-07-01"},
         "members", "activities"),
        (a["office"], "/api/v1/notices", {"org_id": a["county"], "title": "家乡来信",
                                          "body": "致全县流动党员的一封信"},
         "members", "notices"),
        (a["office"], "/api/v1/campaigns", {"title": "防汛救灾", "purpose": "pandemic_relief",
                                            "goal": "300000.00", "opens_on": "2026-07-01",
                                            "closes_on": "2099-12-31", "public": True,
                                            "beneficiaries": [{"kind": "village", "name": "王营村",
                                                               "county": "淮阳区"}]},
         "donations", "campaigns"),
    ]


def test_a_retried_write_creates_once_and_answers_the_same(platform, world):
    for index, (http, path, body, service, table) in enumerate(_creating_requests(world)):
        headers = {"Idempotency-Key": f"retry-{index}"}
        before = platform.scalar(service, f"SELECT count(*) FROM {table}")
        status, first = http.post(path, body, headers=headers)
        assert status == 201, (path, first)
        status, again = http.post(path, body, headers=headers)
        assert status == 201, (path, again)
        assert again == first, path
        assert platform.scalar(service, f"SELECT count(*) FROM {table}") == before + 1, path

        # The same key with another body is a mistake the client must hear about.
        changed = dict(body, **{next(iter(k for k in body if isinstance(body[k], str)
                                          and k in ("name", "title", "description",
                                                    "requester_name"))): "另一个"})
        status, conflict = http.post(path, changed, headers=headers)
        assert status == 409, (path, conflict)
        assert "Idempotency-Key" in conflict["error"]["fields"], conflict
        assert platform.scalar(service, f"SELECT count(*) FROM {table}") == before + 1, path


def test_without_a_key_every_post_creates(platform, world):
    a = world["a"]
    body = {"requester_name": "老乡", "category": "other", "description": "咨询"}
    assert a["desk"].post("/api/v1/requests", body)[0] == 201
    assert a["desk"].post("/api/v1/requests", body)[0] == 201
    assert platform.scalar("services_desk", "SELECT count(*) FROM requests") == 2


def test_keys_belong_to_their_caller(platform, world):
    """Two offices that happen to use the same key string do not see each other's replies."""
    a, b = world["a"], world["b"]
    headers = {"Idempotency-Key": "order-1"}
    status, mine = a["desk"].post("/api/v1/requests", {
        "requester_name": "甲", "category": "other", "description": "咨询"}, headers=headers)
    assert status == 201
    status, theirs = b["desk"].post("/api/v1/requests", {
        "requester_name": "甲", "category": "other", "description": "咨询"}, headers=headers)
    assert status == 201 and theirs["id"] != mine["id"]


def test_the_same_request_sent_twice_at_once_creates_one(platform, world):
    a = world["a"]
    body = {"name": "并发", "id_number": id_number(702), "phone": "13800001234",
            "home_org_id": a["township"], "host_org_id": a["branch"]}
    headers = {"Idempotency-Key": "at-once"}
    pool = eventlet.GreenPool(4)
    replies = list(pool.imap(lambda _: a["office"].post("/api/v1/members", body, headers=headers),
                             range(4)))
    assert {status for status, _ in replies} == {201}, replies
    assert len({reply["id"] for _, reply in replies}) == 1
    assert platform.scalar("members", "SELECT count(*) FROM members") == 1
    # and one event, so every consumer hears of one member
    assert platform.scalar("members", "SELECT count(*) FROM outbox "
                                      "WHERE event_type = 'member_registered'") == 1
    wait_for(lambda: platform.scalar("services_desk", "SELECT count(*) FROM members_projection") == 1)


def test_a_malformed_key_is_400(world):
    status, body = world["a"]["desk"].post("/api/v1/requests", {
        "requester_name": "甲", "category": "other", "description": "咨询"},
        headers={"Idempotency-Key": "x" * 101})
    assert status == 400 and "Idempotency-Key" in body["error"]["fields"]
