"""Disbursements: approval before payment, never more cash or goods than came in (also under
concurrent approvals), the recipient's acknowledgement, disbursement_made."""
import threading

import pytest

from services.plumbing.errors import Conflict, InvalidTransition, NotFound, ValidationFailed

from .conftest import BRANCH, COMMITTEE, ELSEWHERE, PLATFORM, caller, campaign_body

VILLAGE = {"kind": "village", "name": "王营村", "county": "淮阳区"}
HOUSEHOLD = {"kind": "household", "name": "李大娘家", "county": "淮阳区"}
PAID = {"acknowledgement_ref": "王营村收条 2020-001", "disbursed_on": "2020-02-10"}


@pytest.fixture
def funded(service, tenancy):
    """A campaign with 1,000.00 in cash and 10 boxes of masks, and two beneficiaries."""
    created = service.create_campaign(caller(BRANCH), campaign_body(
        beneficiaries=[VILLAGE, HOUSEHOLD]))
    service.record_donation(caller(BRANCH), created["id"], {"amount": "1000.00"}, None)
    service.record_in_kind_donation(caller(BRANCH), created["id"], {
        "items": [{"name": "口罩", "unit": "箱", "quantity": "10", "valuation": "6000.00"}],
        "valued_by": "王会计"}, None)
    created["village"] = next(b["id"] for b in created["beneficiaries"] if b["kind"] == "village")
    return created


def ask(service, campaign, who=BRANCH, **body):
    request = {"beneficiary_id": campaign["village"], "kind": "cash", "amount": "300.00",
               "purpose": "慰问困难群众", **body}
    return service.request_disbursement(caller(who), campaign["id"], request)


def approve(service, campaign, disbursement, who=BRANCH):
    return service.approve_disbursement(caller(who), campaign["id"], disbursement["id"],
                                        {"approver": "李书记"})


def pay(service, campaign, disbursement, who=BRANCH):
    return service.pay_disbursement(caller(who), campaign["id"], disbursement["id"], PAID)


def test_request_approve_pay(service, funded, outbox):
    asked = ask(service, funded)
    assert (asked["status"], asked["amount"], asked["beneficiary"]["name"]) == (
        "requested", "300.00", "王营村")
    approved = approve(service, funded, asked, who=COMMITTEE)
    assert (approved["status"], approved["approver"]) == ("approved", "李书记")
    totals = service.get_campaign(caller(BRANCH), funded["id"])
    assert (totals["cash_reserved"], totals["cash_balance"]) == ("300.00", "1000.00")

    paid = pay(service, funded, asked)
    assert (paid["status"], paid["acknowledgement_ref"], paid["disbursed_on"]) == (
        "paid", "王营村收条 2020-001", "2020-02-10")
    totals = service.get_campaign(caller(BRANCH), funded["id"])
    assert (totals["cash_disbursed"], totals["cash_reserved"], totals["cash_balance"]) == (
        "300.00", "0.00", "700.00")
    [event] = outbox("disbursement_made")
    assert event["data"] == {
        "disbursement_id": asked["id"], "campaign_id": funded["id"],
        "organiser_org_id": BRANCH, "kind": "cash", "amount": "300.00", "items": [],
        "beneficiary_name": "王营村", "beneficiary_county": "淮阳区",
        "disbursed_on": "2020-02-10", "acknowledgement_ref": "王营村收条 2020-001"}


def test_no_payment_without_approval(service, funded, outbox):
    asked = ask(service, funded)
    with pytest.raises(InvalidTransition):
        pay(service, funded, asked)
    approve(service, funded, asked)
    pay(service, funded, asked)
    with pytest.raises(InvalidTransition):
        pay(service, funded, asked)
    with pytest.raises(InvalidTransition):
        approve(service, funded, asked)
    assert len(outbox("disbursement_made")) == 1


def test_cash_never_goes_below_zero(service, funded):
    with pytest.raises(Conflict) as caught:
        ask(service, funded, amount="1000.01")  # refused at request time, not left requested
    assert caught.value.fields == {"amount": ["1000.01 exceeds the cash available (1000.00)"]}
    assert service.list_disbursements(caller(BRANCH), funded["id"])["items"] == []
    first = ask(service, funded, amount="600.00")
    second = ask(service, funded, amount="600.00")
    approve(service, funded, first)
    with pytest.raises(Conflict):
        approve(service, funded, second)  # 600 promised already: 400 left
    # withdrawing the first approval frees the money for the second
    service.reject_disbursement(caller(BRANCH), funded["id"], first["id"],
                                {"reason": "村里已另行安排"})
    assert approve(service, funded, second)["status"] == "approved"
    pay(service, funded, second)
    assert service.get_campaign(caller(BRANCH), funded["id"])["cash_balance"] == "400.00"


def test_goods_are_handed_out_per_item_never_above_received(service, funded):
    masks = [{"name": "口罩", "unit": "箱", "quantity": "6"}]
    first = ask(service, funded, kind="goods", amount=None, items=masks)
    assert first["items"] == [{"name": "口罩", "unit": "箱", "quantity": "6.00"}]
    second = ask(service, funded, kind="goods", amount=None, items=masks)
    approve(service, funded, first)
    with pytest.raises(Conflict) as caught:
        approve(service, funded, second)
    assert caught.value.fields == {"items.0.quantity": ["6.00 箱 of 口罩 wanted, 4.00 left"]}
    with pytest.raises(Conflict):  # and a new request for more than is left is refused at once
        ask(service, funded, kind="goods", amount=None, items=masks)
    pay(service, funded, first)
    ledger = service.get_ledger(caller(BRANCH), funded["id"], {})
    assert ledger["goods"] == [{"name": "口罩", "unit": "箱", "received": "10.00",
                                "disbursed": "6.00", "reserved": "0.00", "left": "4.00"}]
    # cash is untouched by goods
    assert ledger["totals"]["cash_balance"] == "1000.00"


@pytest.mark.parametrize("body, field", [
    ({"kind": "goods", "amount": None, "items": [{"name": "大米", "unit": "吨",
                                                  "quantity": "1"}]}, "items"),
    ({"kind": "goods", "amount": None, "items": [{"name": "口罩", "unit": "包",
                                                  "quantity": "1"}]}, "items"),
    ({"kind": "goods", "amount": None}, "items"),
    ({"kind": "cash", "amount": None}, "amount"),
    ({"kind": "cash", "items": [{"name": "口罩", "unit": "箱", "quantity": "1"}]}, "items"),
    ({"kind": "cash", "amount": "0.00"}, "amount"),
    ({"kind": "cash", "amount": 300}, "amount"),
    ({"kind": "loan"}, "kind"),
    ({"beneficiary_id": "someone-else"}, "beneficiary_id"),
    ({"status": "paid"}, "status"),
])
def test_bad_disbursements_are_refused(service, funded, count, body, field):
    with pytest.raises(ValidationFailed) as caught:
        ask(service, funded, **body)
    assert field in caught.value.fields
    assert count("disbursements") == 0


def test_a_beneficiary_of_another_campaign_is_refused(service, funded):
    other = service.create_campaign(caller(BRANCH), campaign_body(beneficiaries=[VILLAGE]))
    with pytest.raises(ValidationFailed) as caught:
        ask(service, funded, beneficiary_id=other["beneficiaries"][0]["id"])
    assert caught.value.fields == {"beneficiary_id": ["not a beneficiary of this campaign"]}


def test_disbursements_respect_tenancy(service, funded):
    asked = ask(service, funded)
    with pytest.raises(NotFound):
        ask(service, funded, who=ELSEWHERE)
    with pytest.raises(NotFound):
        approve(service, funded, asked, who=ELSEWHERE)
    with pytest.raises(NotFound):
        service.list_disbursements(caller(ELSEWHERE), funded["id"])
    assert [d["id"] for d in service.list_disbursements(PLATFORM, funded["id"])["items"]] == [
        asked["id"]]


def test_concurrent_approvals_that_would_overdraw_exactly_one_wins(make_service, funded):
    """SQLite: the campaign row lock is the database lock; see the integration test for
    PostgreSQL's SELECT ... FOR UPDATE with separate connections."""
    service = make_service()
    requests = [ask(service, funded, amount="700.00") for _ in range(6)]
    outcomes = []

    def approver(disbursement):
        try:
            approve(make_service(), funded, disbursement)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=approver, args=(d,)) for d in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved"] + ["refused"] * 5
    assert service.get_campaign(caller(BRANCH), funded["id"])["cash_reserved"] == "700.00"
