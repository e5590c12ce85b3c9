"""The OpenAPI document says what is sent: real replies of a walk through the platform (a
member with a giving total, a campaign, gifts, a disbursement, the public ledger, the lists and
errors on the way) each validate against the response schema of their operation, with
schemathesis' own validator; and the document states the points found from the outside
(giving_total a string, the public ledger's own schema, the gift maximum)."""
import json
import re

import pytest
import schemathesis
from schemathesis.core.transport import Response as SchemathesisResponse

from gateway.openapi import build_document
from gateway.routes import ROUTES

from .helpers import Http, build_world, register_member, wait_for_member_projection

pytestmark = pytest.mark.integration


def test_the_document_says_what_is_sent():
    schemas = build_document()["components"]["schemas"]
    assert schemas["Member"]["properties"]["giving_total"]["type"] == "string"
    public = schemas["PublicLedgerGift"]["properties"]
    assert not {"id", "member_id", "channel", "anonymous", "batch_id", "received_at"} & set(public)
    assert "id" not in schemas["PublicBeneficiary"]["properties"]
    assert not {"id", "campaign_id", "requested_at"} & set(
        schemas["PublicDisbursement"]["properties"])
    amount = schemas["DonationCreate"]["properties"]["amount"]
    assert amount["x-maximum"] == "10000000.00" and "10000000.00" in amount["description"]
    hours = schemas["ParticipationCreate"]["properties"]["volunteer_hours"]
    assert "number" in hours["type"] and hours["maximum"] == 1000


class CheckedHttp(Http):
    """Http whose every reply is validated against the document's schema for the operation it
    answered (schemathesis' response check); `checked` lists the operations seen."""

    def __init__(self, client, key, schema, checked):
        super().__init__(client, key)
        self.schema, self.checked = schema, checked

    def request(self, method, path, body=None, raw=None, headers=None, query=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.open(path, method=method, data=data, query_string=query,
                                    headers=self._headers(headers),
                                    content_type="application/json")
        template = operation_path(path)
        operation = self.schema[template][method]
        operation.validate_response(SchemathesisResponse.from_any(response))
        self.checked.add((method, template))
        return response.status_code, json.loads(response.get_data(as_text=True) or "null")


TEMPLATES = sorted({re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", r.path) for r in ROUTES},
                   key=lambda t: (t.count("{"), t))


def operation_path(path: str) -> str:
    for template in TEMPLATES:
        pattern = "^" + re.sub(r"\{[a-z_]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"no operation for {path}")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_replies_match_the_document(platform):
    platform.start()
    world = build_world(platform)
    schema = schemathesis.openapi.from_dict(build_document())
    checked = set()

    def checked_http(plain):
        return CheckedHttp(plain.client, plain.key, schema, checked)

    a = world["a"]
    office, branch = checked_http(a["office"]), checked_http(a["branch_office"])
    desk, anyone = checked_http(a["desk"]), checked_http(Http(platform.http(), None))
    member = register_member(a, 21)
    wait_for_member_projection(platform, "donations", member["id"])
    base = f"/api/v1/members/{member['id']}"
    assert office.get(base)[0] == 200
    assert office.get("/api/v1/members", query={"limit": "5"})[0] == 200
    assert office.get(f"{base}/history")[0] == 200
    assert office.get("/api/v1/members/nobody")[0] == 404
    status, campaign = branch.post("/api/v1/campaigns", {
        "title": "助学", "purpose": "school_supplies", "opens_on": "2026-01-01",
        "closes_on": "2099-12-31", "goal": "1000.00", "public": True,
        "beneficiaries": [{"kind": "school", "name": "东村小学", "county": "淮阳区"}]})
    assert status == 201, campaign
    cbase = f"/api/v1/campaigns/{campaign['id']}"
    assert branch.post(f"{cbase}/donations", {"amount": "300.00", "member_id": member["id"],
                                             "public_name": "masked"},
                       headers={"Idempotency-Key": "gift-1"})[0] == 201
    assert branch.post(f"{cbase}/donations", {"amount": "10000000.01"})[0] == 400
    status, asked = branch.post(f"{cbase}/disbursements", {
        "beneficiary_id": campaign["beneficiaries"][0]["id"], "kind": "cash",
        "amount": "100.00", "purpose": "书包"})
    assert status == 201, asked
    step = f"{cbase}/disbursements/{asked['id']}"
    assert branch.post(f"{step}/approve", {"approver": "李书记"})[0] == 200
    assert branch.post(f"{step}/pay", {"acknowledgement_ref": "收条 1",
                                       "disbursed_on": "2026-03-01"})[0] == 200
    assert branch.get(cbase)[0] == 200 and branch.get(f"{cbase}/ledger")[0] == 200
    status, public = anyone.get(f"/api/v1/public/campaigns/{campaign['id']}/ledger")
    assert status == 200 and public["gifts"][0]["donor"].endswith("*"), public
    # giving totals follow the gift (an event): a string, as the document says
    from tests.fixtures import wait_for
    wait_for(lambda: office.get(base)[1]["giving_total"] == "300.00", message="giving total")
    status, request = desk.post("/api/v1/requests", {"requester_name": "西木拉",
                                                     "category": "pension", "description": "认证"})
    assert status == 201, request
    assert desk.get("/api/v1/requests")[0] == 200
    assert desk.get(f"/api/v1/requests/{request['id']}")[0] == 200
    assert desk.post(f"/api/v1/requests/{request['id']}/claim")[0] == 200
    assert desk.post(f"/api/v1/requests/{request['id']}/complete", {"outcome": "已办结"})[0] == 200
    status, activity = office.post("/api/v1/activities", {
        "org_id": a["township"], "kind": "volunteer_service", "title": "义务植树",
        "held_on": "2026-03-12"})
    assert status == 201, activity
    assert office.post(f"/api/v1/activities/{activity['id']}/attendance",
                       {"member_id": member["id"], "volunteer_hours": 8})[0] == 200
    assert office.get("/api/v1/care/elderly")[0] == 200
    admin = checked_http(world["admin"])
    for path in ("/api/v1/org-units", "/api/v1/keys", "/api/v1/audit", "/api/v1/staff-users"):
        assert admin.get(path)[0] == 200, path
    assert len(checked) >= 23, sorted(checked)
