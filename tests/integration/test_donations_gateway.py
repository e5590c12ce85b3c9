"""Fundraising through the gateway, with every service running on real RabbitMQ and real
databases: gifts of cash and goods, idempotency, late gifts, paper-list batches, voids,
disbursements with approval, the public ledger without a key, CSV/XLSX export, reconciliation,
reports, and tenancy on every campaign route."""
import csv
import io
import json
from datetime import date, timedelta

import pytest

from tests.fixtures import wait_for

from .helpers import Http, build_world, register_member, wait_for_member_projection

pytestmark = pytest.mark.integration


@pytest.fixture
def world(platform):
    platform.start()
    return build_world(platform)


def new_campaign(office, **overrides):
    body = {"title": "抗击疫情 爱心捐款", "purpose": "pandemic_relief", "goal": "500000.00",
            "opens_on": "2020-01-28", "closes_on": "2099-12-31", "public": True,
            "beneficiaries": [{"kind": "village", "name": "王营村", "county": "淮阳区"}]}
    body.update(overrides)
    status, campaign = office.post("/api/v1/campaigns", body)
    assert status == 201, campaign
    return campaign


def test_a_campaign_from_gifts_to_public_ledger(platform, world):
    a = world["a"]
    office = a["branch_office"]
    member = register_member(a, 11)
    wait_for_member_projection(platform, "donations", member["id"])
    campaign = new_campaign(office)
    base = f"/api/v1/campaigns/{campaign['id']}"

    # cash, with an Idempotency-Key retried and then misused
    gift = {"amount": "3000.00", "member_id": member["id"], "public_name": "name"}
    status, first = office.post(f"{base}/donations", gift, headers={"Idempotency-Key": "g-1"})
    assert status == 201, first
    status, again = office.post(f"{base}/donations", gift, headers={"Idempotency-Key": "g-1"})
    assert (status, again["id"], again["replayed"]) == (200, first["id"], True)
    status, conflict = office.post(f"{base}/donations", {"amount": "3000.01"},
                                   headers={"Idempotency-Key": "g-1"})
    assert status == 409 and conflict["error"]["fields"] == {
        "Idempotency-Key": ["was used for a different request"]}

    # goods, valued
    status, goods = office.post(f"{base}/in-kind-donations", {
        "items": [{"name": "N95 口罩", "unit": "箱", "quantity": "100", "valuation": "708000.00"}],
        "valued_by": "县红十字会", "donor_name": "常州某企业", "public_name": "name"},
        headers={"Idempotency-Key": "goods-1"})
    assert status == 201 and goods["amount"] == "708000.00", goods

    # a paper list: refused whole when it does not add up, accepted whole when it does
    paper = {"reference": "支部大会名单", "declared_count": 3, "declared_total": "487982.52",
             "gifts": [{"amount": "480000.00", "donor_name": "老乡甲"},
                       {"amount": "7982.52", "donor_name": "老乡乙", "public_name": "name"},
                       {"amount": "0.01", "donor_name": "老乡丙"}]}
    status, refused = office.post(f"{base}/donation-batches", paper)
    assert status == 400 and list(refused["error"]["fields"]) == ["declared_total"], refused
    paper["declared_total"] = "487982.53"
    status, batch = office.post(f"{base}/donation-batches", paper)
    assert status == 201 and [g["receipt_no"] for g in batch["gifts"]] == [3, 4, 5], batch

    # a wrong entry voided with its reason
    status, voided = office.post(f"{base}/donations/{batch['gifts'][2]['id']}/void",
                                 {"reason": "录入错误"})
    assert status == 200 and voided["voided"] is True, voided

    status, totals = office.get(base)
    assert (totals["cash_total"], totals["goods_total"]) == ("490982.52", "708000.00"), totals
    assert (totals["donation_count"], totals["voided_count"]) == (4, 1)

    # disbursements: approval before payment, never more than is there
    village = campaign["beneficiaries"][0]["id"]
    status, asked = office.post(f"{base}/disbursements", {
        "beneficiary_id": village, "kind": "cash", "amount": "130000.00",
        "purpose": "发放给村民的现金和物资"})
    assert status == 201, asked
    step = f"{base}/disbursements/{asked['id']}"
    paid_body = {"acknowledgement_ref": "王营村收条 001", "disbursed_on": "2020-03-01"}
    assert office.post(f"{step}/pay", paid_body)[0] == 409
    assert office.post(f"{step}/approve", {"approver": "李书记"})[0] == 200
    status, paid = office.post(f"{step}/pay", paid_body)
    assert status == 200 and paid["status"] == "paid", paid
    # more than is left is refused when requested (not left `requested` until an approval)
    status, refused = office.post(f"{base}/disbursements", {
        "beneficiary_id": village, "kind": "cash", "amount": "360982.53", "purpose": "超额"})
    assert status == 409 and refused["error"]["fields"] == {
        "amount": ["360982.53 exceeds the cash available (360982.52)"]}, refused
    status, listed = office.get(f"{base}/disbursements")
    assert [d["status"] for d in listed["items"]] == ["paid"], listed

    # the public ledger, without any key
    anyone = Http(platform.http(), None)
    status, public = anyone.get(f"/api/v1/public/campaigns/{campaign['id']}/ledger")
    assert status == 200, public
    assert [g["donor"] for g in public["gifts"]] == ["党员11", "常州某企业", "老**", "老乡乙",
                                                     "老**"]
    assert public["totals"]["cash_balance"] == "360982.52"
    assert public["totals"]["progress_percent"] == "239.79"
    assert [d["amount"] for d in public["disbursements"]] == ["130000.00"]
    text = json.dumps(public, ensure_ascii=False)
    assert member["id"] not in text and "member_id" not in text and a["branch"] not in text
    private = new_campaign(office, public=False)
    assert anyone.get(f"/api/v1/public/campaigns/{private['id']}/ledger")[0] == 404

    # export
    response = platform.http().get(f"{base}/ledger.csv",
                                   headers={"Authorization": f"Bearer {office.key}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["amount"] for r in rows if r["entry"] == "gift"] == [
        "3000.00", "708000.00", "480000.00", "7982.52", "0.01"]
    response = platform.http().get(f"{base}/ledger.xlsx",
                                   headers={"Authorization": f"Bearer {office.key}"})
    assert response.status_code == 200
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sum(1 for row in sheet.iter_rows(values_only=True) if row[0] == "gift") == 5

    # reconciliation and reports
    status, check = office.get(f"{base}/reconciliation")
    assert status == 200 and check["ok"] is True, check
    assert (check["received"], check["voided"], check["disbursed"], check["balance"]) == (
        "490982.53", "0.01", "130000.00", "360982.52")
    status, report = a["host_office"].get("/api/v1/donation-reports/organisers")
    assert status == 200 and [r["cash_total"] for r in report["items"]] == ["490982.52"]
    status, giving = a["office"].get(f"/api/v1/donation-reports/members/{member['id']}")
    assert status == 200 and giving["cash_total"] == "0.00"  # the county sees no branch campaign
    status, giving = office.get(f"/api/v1/donation-reports/members/{member['id']}")
    assert status == 200 and giving["cash_total"] == "3000.00", giving
    # members credits the member's cash gift once, from donation_received
    wait_for(lambda: a["office"].get(f"/api/v1/members/{member['id']}")[1].get("giving_total")
             == "3000.00", message="giving total credited")

    # closing by hand; a late gift is still taken
    status, closed = office.post(f"{base}/close")
    assert status == 200 and closed["status"] == "closed", closed
    status, late = office.post(f"{base}/donations", {"amount": "3000.00"})
    assert status == 201 and late["late"] is True, late
    assert platform.scalar("donations", "SELECT count(*) FROM outbox WHERE event_type = "
                                        "'campaign_closed'") == 1
    assert platform.scalar("donations", "SELECT count(*) FROM outbox WHERE event_type = "
                                        "'donation_voided'") == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_late_gifts_and_bad_input_through_the_gateway(platform, world):
    office = world["a"]["branch_office"]
    today = date.today()
    past = new_campaign(office, opens_on=str(today - timedelta(days=60)),
                        closes_on=str(today - timedelta(days=30)))
    status, late = office.post(f"/api/v1/campaigns/{past['id']}/donations", {"amount": "3000"})
    assert status == 201 and late["late"] is True, late
    for body, field in (({"amount": 3000}, "amount"), ({"amount": "1.001"}, "amount"),
                        ({"amount": "1.00", "organiser_org_id": "x"}, "organiser_org_id")):
        status, error = office.post(f"/api/v1/campaigns/{past['id']}/donations", body)
        assert status == 400 and field in error["error"]["fields"], error
    status, error = office.post(f"/api/v1/campaigns/{past['id']}/in-kind-donations",
                                {"items": [], "valued_by": "x"})
    assert status == 400 and "items" in error["error"]["fields"]
    status, error = office.post(f"/api/v1/campaigns/{past['id']}/disbursements",
                                {"kind": "cash", "beneficiary_id": "x", "purpose": "p"})
    assert status == 400 and "amount" in error["error"]["fields"]
    assert office.get(f"/api/v1/campaigns/{past['id']}")[1]["donation_count"] == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_campaign_route_is_404_from_another_tenant(platform, world):
    a, b = world["a"], world["b"]
    campaign = new_campaign(a["branch_office"])
    base = f"/api/v1/campaigns/{campaign['id']}"
    status, gift = a["branch_office"].post(f"{base}/donations", {"amount": "10.00"})
    status, asked = a["branch_office"].post(f"{base}/disbursements", {
        "beneficiary_id": campaign["beneficiaries"][0]["id"], "kind": "cash",
        "amount": "1.00", "purpose": "p"})
    assert status == 201, asked
    step = f"{base}/disbursements/{asked['id']}"
    calls = [("GET", base, None), ("GET", f"{base}/ledger", None),
             ("GET", f"{base}/ledger.csv", None), ("GET", f"{base}/ledger.xlsx", None),
             ("GET", f"{base}/reconciliation", None), ("GET", f"{base}/disbursements", None),
             ("POST", f"{base}/open", None), ("POST", f"{base}/close", None),
             ("POST", f"{base}/settle", None),
             ("POST", f"{base}/donations", {"amount": "1.00"}),
             ("POST", f"{base}/in-kind-donations", {"items": [
                 {"name": "米", "unit": "袋", "quantity": "1", "valuation": "1.00"}],
                 "valued_by": "x"}),
             ("POST", f"{base}/donation-batches", {"reference": "r", "declared_count": 1,
                                                   "declared_total": "1.00",
                                                   "gifts": [{"amount": "1.00"}]}),
             ("GET", f"{base}/donations/{gift['id']}", None),
             ("POST", f"{base}/donations/{gift['id']}/void", {"reason": "r"}),
             ("POST", f"{base}/disbursements", {"beneficiary_id": "x", "kind": "cash",
                                                "amount": "1.00", "purpose": "p"}),
             ("POST", f"{step}/approve", {"approver": "x"}),
             ("POST", f"{step}/pay", {"acknowledgement_ref": "x", "disbursed_on": "2020-01-01"}),
             ("POST", f"{step}/reject", {"reason": "x"})]
    for outsider in (b["office"], b["host_office"], b["branch_office"]):
        for method, path, body in calls:
            status, answer = outsider.request(method, path, body=body)
            assert status == 404, (method, path, status, answer)
    # the member's home county is another tree: outside; the committee above the branch: inside
    assert a["office"].get(base)[0] == 404
    assert a["host_office"].get(base)[0] == 200
    # nothing changed
    status, totals = a["branch_office"].get(base)
    assert (totals["status"], totals["donation_count"], totals["cash_reserved"]) == (
        "open", 1, "0.00")
    # the desk has no business with campaigns
    assert a["desk"].get(base)[0] == 403
