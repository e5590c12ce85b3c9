"""Care, honours, finding members and returning talent through the gateway on real RabbitMQ and
PostgreSQL, each seen from the home side and refused to another tenant."""
import pytest

from .helpers import build_world, register_member

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_care_honours_contact_attempts_and_talent(platform):
    platform.start("members")
    world = build_world(platform)
    a, b = world["a"], world["b"]
    member = register_member(a, 71)
    base = f"/api/v1/members/{member['id']}"

    for amount in ("1200.50", "799.50"):
        status, body = a["office"].post(f"{base}/hardship-help", {
            "kind": "living", "amount": amount, "granted_on": "2026-01-20"})
        assert status == 201, body
    status, help_list = a["office"].get(f"{base}/hardship-help")
    assert status == 200 and help_list["total"] == "2000.00" and len(help_list["items"]) == 2
    assert b["office"].get(f"{base}/hardship-help")[0] == 404
    status, body = a["office"].post(f"{base}/hardship-help", {
        "kind": "living", "amount": 10.5, "granted_on": "2026-01-20"})
    assert status == 400 and "amount" in body["error"]["fields"]

    status, honour = a["office"].post("/api/v1/honours", {
        "member_id": member["id"], "title": "优秀共产党员", "awarded_on": "2026-07-01"})
    assert status == 201, honour
    status, honours = a["office"].get("/api/v1/honours", query={"member_id": member["id"]})
    assert status == 200 and [h["title"] for h in honours["items"]] == ["优秀共产党员"]
    assert b["office"].get("/api/v1/honours", query={"member_id": member["id"]})[0] == 404
    status, body = b["office"].post("/api/v1/honours", {
        "member_id": member["id"], "title": "x", "awarded_on": "2026-07-01"})
    assert status == 400 and body["error"]["fields"] == {
        "member_id": ["no such member in your scope"]}  # another tenant's member

    contact = {"attempted_on": "2026-03-02", "method": "relatives", "outcome": "亲属说在工地"}
    assert a["office"].post(f"{base}/contact-attempts", contact)[0] == 409  # not lost yet
    assert a["branch_office"].post(f"{base}/accept")[0] == 200
    assert a["office"].post(f"{base}/lose-contact", {"occurred_on": "2026-03-01"})[0] == 200
    status, attempt = a["office"].post(f"{base}/contact-attempts", {
        "attempted_on": "2026-03-02", "method": "relatives", "outcome": "亲属说在工地"})
    assert status == 201, attempt
    status, attempts = a["office"].get(f"{base}/contact-attempts")
    assert status == 200 and len(attempts["items"]) == 1
    assert b["office"].get(f"{base}/contact-attempts")[0] == 404

    talent = {"kind": "village_cadre", "returned_on": "2026-05-01"}
    status, body = a["office"].post(f"{base}/talent-returns", talent)
    assert status == 409, body  # only a member who returned home
    assert a["office"].post(f"{base}/found")[0] == 200
    assert a["office"].post(f"{base}/return-home")[0] == 200
    status, body = a["office"].post(f"{base}/talent-returns", talent)
    assert status == 201, body
    status, report = a["office"].get("/api/v1/reports/talent", query={"year": "2026"})
    assert status == 200 and report["counts"].get("village_cadre") == 1, report
    assert b["office"].get("/api/v1/reports/talent", query={"year": "2026"})[1]["items"] == []
