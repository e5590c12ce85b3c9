"""首问责任制 through the gateway on PostgreSQL: who at a centre may take which step.

One platform for the module (starting one per case would take minutes); every case builds its
own request. The request of each case was claimed by its 首问 owner and handed on to the
assignee, so owner and assignee are two different people:

    actor         every step                    extend (a lead's approval)
    owner         403 not_your_request          403 not_your_request
    assignee      200                           403 forbidden
    other clerk   403 not_your_request          403 not_your_request
    lead          200                           200
    other centre  404 (outside its tenant)      404
"""
import pytest

from tests.fixtures import Databases, Platform, purge_event_queues

from .helpers import Http, build_world

pytestmark = pytest.mark.integration

ACTORS = ("owner", "assignee", "other_clerk", "lead", "other_centre")
NAMES = {"owner": "李首问", "assignee": "王承办", "other_clerk": "赵同事", "lead": "杨组长"}

# action (the path's last part): (the state the request is brought to, the body)
ACTIONS = {
    "start": ("accepted", None),
    "materials-missing": ("in_progress", {"missing": ["社保卡"]}),
    "supplement": ("materials_missing", {"note": "已补齐"}),
    "forward": ("in_progress", {"note": "请家乡社保局办理"}),
    "complete": ("in_progress", {"outcome": "已缴费，电话告知本人"}),
    "reject": ("in_progress", {"reason": "不符合办理条件"}),
    "withdraw": ("in_progress", {"reason": "本人已自行办理"}),
    "reopen": ("completed", {"reason": "回执有误"}),
    "assign": ("in_progress", "back to the owner"),
    "extend": ("in_progress", {"extra_working_days": 3, "reason": "等待家乡回函"}),
    "rating": ("completed", {"score": 4}),
}


def key_id(http: Http) -> str:
    return http.key.split("_")[1]


class Centre:
    """Centre A's people as API keys, registered as desk staff, and centre B's clerk."""

    def __init__(self, platform, world):
        a = world["a"]
        self.admin, self.centre_id, self.county = world["admin"], a["centre"], a["county"]
        self.http = {name: Http(a["desk"].client, platform.key("desk_staff", a["centre"], name))
                     for name in NAMES}
        self.http["other_centre"] = world["b"]["desk"]
        self.ids = {name: key_id(http) for name, http in self.http.items()}
        for name, display in NAMES.items():
            status, body = world["admin"].request("PUT", f"/api/v1/desk/staff/{self.ids[name]}", {
                "centre_org_id": a["centre"], "name": display, "is_lead": name == "lead"})
            assert status == 200, body

    def post(self, actor, rid, action, body=None):
        return self.http[actor].post(f"/api/v1/requests/{rid}/{action}", body)

    def get(self, rid):
        status, body = self.http["lead"].get(f"/api/v1/requests/{rid}")
        assert status == 200, body
        return body

    def submit(self, **extra) -> str:
        status, body = self.http["owner"].post("/api/v1/requests", {
            "requester_name": "西木拉", "category": "social_insurance", "description": "社保缴费",
            "requester_home_org_id": self.county, **extra})
        assert status == 201, body
        return body["id"]

    def held(self, state: str) -> str:
        """A request in `state`, taken by the owner and handed on to the assignee."""
        rid = self.submit()
        ok = lambda reply: reply[0] == 200 or pytest.fail(str(reply))  # noqa: E731
        ok(self.post("owner", rid, "accept" if state == "accepted" else "claim"))
        if state == "materials_missing":
            ok(self.post("owner", rid, "materials-missing", {"missing": ["社保卡"]}))
        ok(self.post("owner", rid, "assign", {"assignee": self.ids["assignee"], "reason": "轮岗"}))
        if state == "completed":
            ok(self.post("assignee", rid, "complete", {"outcome": "已办结"}))
        return rid


@pytest.fixture(scope="module")
def centre(pg_admin_engine, amqp_uri, tmp_path_factory):
    purge_event_queues(amqp_uri)
    databases = Databases("postgresql", tmp_path_factory.mktemp("desk-ownership"),
                          pg_admin_engine)
    platform = Platform(databases, amqp_uri).start("members", "services_desk")
    try:
        yield Centre(platform, build_world(platform))
    finally:
        platform.stop()
        databases.drop_all()


def expected(actor: str, action: str) -> tuple[int, str | None]:
    if actor == "other_centre":
        return 404, "not_found"
    if actor in ("owner", "other_clerk"):
        return 403, "not_your_request"
    if action == "extend" and actor == "assignee":
        return 403, "forbidden"  # the holder asks; a lead approves
    return 200, None


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_take_each_step(centre, actor, action):
    state, body = ACTIONS[action]
    rid = centre.held(state)
    if body == "back to the owner":
        body = {"assignee": centre.ids["owner"], "reason": "交回首问人"}
    before = centre.get(rid)

    status, reply = centre.post(actor, rid, action, body)

    want_status, want_code = expected(actor, action)
    assert status == want_status, reply
    if want_code:
        assert reply["error"]["code"] == want_code, reply
        after = centre.get(rid)
        assert (after["status"], after["assignee"], len(after["steps"])) == (
            before["status"], before["assignee"], len(before["steps"])), "a refusal changes nothing"
    if want_code == "not_your_request":
        # The refusal names who holds the request, so the clerk knows whom to ask.
        assert NAMES["assignee"] in reply["error"]["message"], reply


@pytest.mark.parametrize("action", ["claim", "accept"])
@pytest.mark.parametrize("actor", ACTORS)
def test_a_held_request_cannot_be_taken_again_and_the_refusal_names_its_holder(
        centre, actor, action):
    rid = centre.held("in_progress")
    status, reply = centre.post(actor, rid, action)
    if actor == "other_centre":
        assert status == 404, reply
        return
    assert status == 409 and reply["error"]["code"] == "invalid_transition", reply
    assert reply["error"]["message"] == (
        f"cannot {action} this request: {NAMES['assignee']} holds it (in_progress)")
    assert centre.get(rid)["first_owner"] == centre.ids["owner"]


@pytest.mark.parametrize("actor", ["owner", "assignee", "other_clerk", "lead"])
def test_every_clerk_of_the_centre_may_claim_an_unclaimed_request(centre, actor):
    rid = centre.submit()
    status, reply = centre.post(actor, rid, "claim")
    assert status == 200, reply
    assert reply["first_owner"] == reply["assignee"] == centre.ids[actor]
    assert centre.post("other_centre", centre.submit(), "claim")[0] == 404


MINE = {"mine": "true", "status": "in_progress", "limit": "200"}


def test_the_owner_acts_while_the_request_is_theirs_and_keeps_it_in_mine(centre):
    rid = centre.submit()
    assert centre.post("owner", rid, "claim")[0] == 200
    status, reply = centre.post("owner", rid, "materials-missing", {"missing": ["社保卡"]})
    assert status == 200, reply
    assert centre.post("owner", rid, "supplement", {"note": "已补齐"})[0] == 200
    # handed on: the work is the assignee's now, the owner keeps it in "mine"
    assert centre.post("owner", rid, "assign", {"assignee": centre.ids["assignee"],
                                                "reason": "轮岗"})[0] == 200
    status, mine = centre.http["owner"].get("/api/v1/requests", query=MINE)
    assert status == 200 and rid in [r["id"] for r in mine["items"]], mine
    status, theirs = centre.http["other_clerk"].get("/api/v1/requests", query=MINE)
    assert status == 200 and rid not in [r["id"] for r in theirs["items"]], theirs
    assert centre.post("owner", rid, "complete", {"outcome": "x"})[0] == 403
    # the lead hands it back; the owner may finish it
    assert centre.post("lead", rid, "assign", {"assignee": centre.ids["owner"],
                                               "reason": "交回"})[0] == 200
    status, reply = centre.post("owner", rid, "complete", {"outcome": "已办结"})
    assert status == 200 and reply["first_owner"] == centre.ids["owner"], reply


def test_a_clerk_who_does_not_speak_the_language_gets_language_mismatch(centre):
    def lead_speaks(languages):
        status, body = centre.admin.request("PUT", f"/api/v1/desk/staff/{centre.ids['lead']}", {
            "centre_org_id": centre.centre_id, "name": NAMES["lead"], "languages": languages,
            "is_lead": True})
        assert status == 200, body

    rid = centre.submit(language="bo")
    lead_speaks(["bo"])  # the centre has a Tibetan speaker now: a bo request goes to them
    try:
        status, reply = centre.post("other_clerk", rid, "claim")
        assert status == 403 and reply["error"]["code"] == "language_mismatch", reply
        assert centre.post("lead", rid, "claim")[0] == 200
        status, reply = centre.post("lead", rid, "assign", {"assignee": centre.ids["assignee"],
                                                            "reason": "忙"})
        assert status == 403 and reply["error"]["code"] == "language_mismatch", reply
        assert centre.get(rid)["assignee"] == centre.ids["lead"]
    finally:
        lead_speaks([])
