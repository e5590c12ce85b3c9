"""Gifts of goods (valued in yuan, kept apart from cash), paper lists entered as batches (all or
nothing), and voids of wrong entries (kept in the ledger, totals follow, donation_voided)."""
import random
from decimal import Decimal

import pytest

from services.plumbing.errors import Conflict, InvalidTransition, NotFound, ValidationFailed

from .conftest import BRANCH, COMMITTEE, ELSEWHERE, MEMBER, STRANGER, caller, campaign_body
from .test_gifts import SEED_GIFTS

# The second batch of materials, worth 708,000 yuan (折合人民币), as it might have been listed.
SEED_GOODS = [
    {"name": "医用外科口罩", "unit": "箱", "quantity": "400", "valuation": "240000.00"},
    {"name": "N95 口罩", "unit": "箱", "quantity": "120", "valuation": "216000.00"},
    {"name": "防护服", "unit": "套", "quantity": "3000", "valuation": "180000.00"},
    {"name": "84 消毒液", "unit": "桶", "quantity": "1200", "valuation": "43200.00"},
    {"name": "医用酒精", "unit": "吨", "quantity": "2.5", "valuation": "28800.00"},
]


def goods_gift(service, campaign, items=None, key=None, who=BRANCH, **body):
    return service.record_in_kind_donation(caller(who), campaign["id"], {
        "items": SEED_GOODS if items is None else items, "valued_by": "县红十字会 王会计", **body}, key)


def test_a_gift_of_goods_is_valued_and_kept_apart_from_cash(service, campaign, outbox):
    gift = goods_gift(service, campaign, donor_name="常州某企业", public_name="name")
    assert (gift["kind"], gift["amount"], gift["valued_by"]) == (
        "in_kind", "708000.00", "县红十字会 王会计")
    assert gift["items"][4] == {"name": "医用酒精", "unit": "吨", "quantity": "2.50",
                                "valuation": "28800.00"}
    assert gift["receipt_no"] == 1
    cash = service.record_donation(caller(BRANCH), campaign["id"], {"amount": "500.00"}, None)
    assert cash["receipt_no"] == 2  # one sequence of receipts per campaign

    totals = service.get_campaign(caller(BRANCH), campaign["id"])
    assert (totals["cash_total"], totals["goods_total"], totals["raised_total"]) == (
        "500.00", "708000.00", "708500.00")
    assert totals["cash_balance"] == "500.00"
    # Only cash gifts are announced as donation_received (members credits cash giving).
    assert [e["data"]["donation_id"] for e in outbox("donation_received")] == [cash["id"]]


def test_the_seed_totals_are_reproduced_exactly(service, campaign):
    entries = [("cash", amount) for amount in SEED_GIFTS] + [("goods", None)]
    random.Random(11).shuffle(entries)
    for kind, amount in entries:
        if kind == "cash":
            service.record_donation(caller(BRANCH), campaign["id"], {"amount": amount}, None)
        else:
            goods_gift(service, campaign)
    totals = service.get_campaign(caller(BRANCH), campaign["id"])
    assert (totals["cash_total"], totals["goods_total"]) == ("490982.52", "708000.00")
    assert totals["raised_total"] == "1198982.52"
    assert totals["donation_count"] == len(SEED_GIFTS) + 1
    # goal 500,000.00: raised 1,198,982.52 is 239.79 % (cut, not rounded)
    assert totals["progress_percent"] == "239.79"


@pytest.mark.parametrize("items, field", [
    ([], "items"),
    ([{"name": "口罩", "unit": "箱", "quantity": "0", "valuation": "1.00"}], "items.0.quantity"),
    ([{"name": "口罩", "unit": "箱", "quantity": 10, "valuation": "1.00"}], "items.0.quantity"),
    ([{"name": "口罩", "unit": "箱", "quantity": "1", "valuation": "0.00"}], "items.0.valuation"),
    ([{"name": "口罩", "unit": "箱", "quantity": "1", "valuation": 1.5}], "items.0.valuation"),
    ([{"name": "口罩", "unit": "", "quantity": "1", "valuation": "1.00"}], "items.0.unit"),
    ([{"name": "口罩", "unit": "箱", "quantity": "1.005", "valuation": "1.00"}],
     "items.0.quantity"),
])
def test_bad_goods_are_refused_line_by_line(service, campaign, count, items, field):
    with pytest.raises(ValidationFailed) as caught:
        goods_gift(service, campaign, items=items)
    assert field in caught.value.fields
    assert count("donations") == 0 and count("donation_items") == 0


def test_goods_need_a_valuer(service, campaign):
    with pytest.raises(ValidationFailed) as caught:
        service.record_in_kind_donation(caller(BRANCH), campaign["id"], {"items": SEED_GOODS},
                                        None)
    assert "valued_by" in caught.value.fields


def test_goods_gifts_are_idempotent_too(service, campaign, count):
    first = goods_gift(service, campaign, key="goods-1")
    again = goods_gift(service, campaign, key="goods-1")
    assert again == {**first, "replayed": True}
    with pytest.raises(Conflict):
        goods_gift(service, campaign, key="goods-1", items=SEED_GOODS[:1])
    # a cash gift with a goods gift's key is another request
    with pytest.raises(Conflict):
        service.record_donation(caller(BRANCH), campaign["id"], {"amount": "1.00"}, "goods-1")
    assert count("donations") == 1


# -- batches --------------------------------------------------------------------------------------
def paper_list(amounts, **overrides):
    gifts = [{"amount": amount, "donor_name": f"党员{i}"} for i, amount in enumerate(amounts)]
    body = {"reference": "2020-02-03 支部大会 捐款名单", "declared_count": len(amounts),
            "declared_total": format(sum(Decimal(a) for a in amounts), "f"), "gifts": gifts}
    body.update(overrides)
    return body


def test_a_batch_that_matches_its_paper_is_accepted_whole(service, campaign, count, outbox):
    service.record_donation(caller(BRANCH), campaign["id"], {"amount": "1.00"}, None)
    batch = service.record_donation_batch(caller(BRANCH), campaign["id"], paper_list(
        ["100.00", "200.50", "3000", "0.01"]), None)
    assert (batch["declared_count"], batch["declared_total"]) == (4, "3300.51")
    assert [g["receipt_no"] for g in batch["gifts"]] == [2, 3, 4, 5]
    assert {g["batch_id"] for g in batch["gifts"]} == {batch["id"]}
    assert service.get_campaign(caller(BRANCH), campaign["id"])["cash_total"] == "3301.51"
    assert len(outbox("donation_received")) == 5


@pytest.mark.parametrize("overrides, field", [
    ({"declared_count": 5}, "declared_count"),
    ({"declared_total": "3300.50"}, "declared_total"),
    ({"declared_total": "3300.52"}, "declared_total"),
])
def test_a_batch_that_does_not_match_is_refused_whole(service, campaign, count, outbox,
                                                      overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        service.record_donation_batch(caller(BRANCH), campaign["id"], paper_list(
            ["100.00", "200.50", "3000", "0.01"], **overrides), None)
    assert list(caught.value.fields) == [field]
    assert count("donations") == 0 and count("donation_batches") == 0
    assert outbox("donation_received") == []
    # the receipt counter did not move either
    assert service.record_donation(caller(BRANCH), campaign["id"], {"amount": "1.00"},
                                   None)["receipt_no"] == 1


def test_one_bad_line_refuses_the_whole_batch(service, campaign, count):
    body = paper_list(["100.00", "200.00"])
    body["gifts"][1] = {"amount": "200.00", "member_id": STRANGER}
    with pytest.raises(ValidationFailed) as caught:
        service.record_donation_batch(caller(BRANCH), campaign["id"], body, None)
    assert caught.value.fields == {"gifts.1.member_id": ["no such member in your scope"]}
    body["gifts"][1] = {"amount": "-200.00"}
    with pytest.raises(ValidationFailed) as caught:
        service.record_donation_batch(caller(BRANCH), campaign["id"], body, None)
    assert "gifts.1.amount" in caught.value.fields
    assert count("donations") == 0


def test_a_batch_retried_with_its_key_is_the_same_batch(service, campaign, count):
    body = paper_list(["10.00", "20.00"])
    first = service.record_donation_batch(caller(BRANCH), campaign["id"], body, "list-7")
    again = service.record_donation_batch(caller(BRANCH), campaign["id"], body, "list-7")
    assert again["id"] == first["id"] and again["replayed"] is True
    assert [g["id"] for g in again["gifts"]] == [g["id"] for g in first["gifts"]]
    with pytest.raises(Conflict):
        service.record_donation_batch(caller(BRANCH), campaign["id"],
                                      paper_list(["10.00", "20.01"]), "list-7")
    assert count("donations") == 2


def test_a_paper_list_posted_twice_without_a_key_is_refused(service, campaign, count):
    service.record_donation_batch(caller(BRANCH), campaign["id"], paper_list(["10.00"]), None)
    again = paper_list(["10.00"], reference=" 2020-02-03 支部大会 捐款名单 ")
    with pytest.raises(Conflict) as caught:
        service.record_donation_batch(caller(BRANCH), campaign["id"], again, None)
    assert list(caught.value.fields) == ["reference"]
    assert count("donations") == 1 and count("donation_batches") == 1
    # another list that happens to carry the same reference, said so
    second = service.record_donation_batch(caller(BRANCH), campaign["id"],
                                           paper_list(["20.00"], different_list=True), None)
    assert second["reference"] == "2020-02-03 支部大会 捐款名单"
    # the same reference in another campaign is another list
    other = service.create_campaign(caller(BRANCH), campaign_body(title="Flood relief"))
    service.record_donation_batch(caller(BRANCH), other["id"], paper_list(["30.00"]), None)
    assert count("donations") == 3 and count("donation_batches") == 3


def test_the_gift_cap_applies_inside_a_batch(make_service, campaign):
    service = make_service(DONATION_MAX_AMOUNT="500.00")
    with pytest.raises(ValidationFailed) as caught:
        service.record_donation_batch(caller(BRANCH), campaign["id"],
                                      paper_list(["500.01"]), None)
    assert caught.value.fields == {"gifts.0.amount": ["must be at most 500.00"]}


# -- voids ----------------------------------------------------------------------------------------
def test_a_void_keeps_the_entry_and_the_totals_follow(service, campaign, outbox):
    kept = service.record_donation(caller(BRANCH), campaign["id"],
                                   {"amount": "100.00", "member_id": MEMBER}, None)
    wrong = service.record_donation(caller(BRANCH), campaign["id"],
                                    {"amount": "1000.00", "member_id": MEMBER}, None)
    voided = service.void_donation(caller(BRANCH), campaign["id"], wrong["id"],
                                   {"reason": "录入错误：应为 100.00"})
    assert (voided["voided"], voided["void_reason"]) == (True, "录入错误：应为 100.00")

    totals = service.get_campaign(caller(BRANCH), campaign["id"])
    assert (totals["cash_total"], totals["cash_received"], totals["cash_voided"]) == (
        "100.00", "1100.00", "1000.00")
    assert (totals["donation_count"], totals["voided_count"], totals["cash_balance"]) == (
        1, 1, "100.00")
    [event] = outbox("donation_voided")
    assert event["data"] == {"donation_id": wrong["id"], "campaign_id": campaign["id"],
                             "member_id": MEMBER, "amount": "1000.00",
                             "reason": "录入错误：应为 100.00",
                             "voided_at": event["data"]["voided_at"]}
    ledger = service.get_ledger(caller(BRANCH), campaign["id"], {})
    assert [(g["receipt_no"], g["voided"]) for g in ledger["gifts"]] == [(1, False), (2, True)]
    assert kept["id"] in [g["id"] for g in ledger["gifts"]]

    assert service.get_donation(caller(COMMITTEE), campaign["id"], wrong["id"]) == voided
    with pytest.raises(NotFound):
        service.get_donation(caller(ELSEWHERE), campaign["id"], wrong["id"])
    with pytest.raises(InvalidTransition):
        service.void_donation(caller(BRANCH), campaign["id"], wrong["id"], {"reason": "again"})
    assert len(outbox("donation_voided")) == 1


def test_a_void_needs_a_reason_and_a_gift_of_the_campaign(service, campaign, tenancy):
    gift = service.record_donation(caller(BRANCH), campaign["id"], {"amount": "1.00"}, None)
    with pytest.raises(ValidationFailed) as caught:
        service.void_donation(caller(BRANCH), campaign["id"], gift["id"], {"reason": " "})
    assert "reason" in caught.value.fields
    other = service.create_campaign(caller(BRANCH), campaign_body(title="another"))
    for campaign_id, gift_id, who in ((other["id"], gift["id"], BRANCH),
                                      (campaign["id"], "no-such-gift", BRANCH),
                                      (campaign["id"], gift["id"], ELSEWHERE)):
        with pytest.raises(NotFound):
            service.void_donation(caller(who), campaign_id, gift_id, {"reason": "wrong"})


def test_cash_already_handed_out_cannot_be_voided_away(service, tenancy):
    created = service.create_campaign(caller(BRANCH), campaign_body(beneficiaries=[
        {"kind": "village", "name": "王营村", "county": "淮阳区"}]))
    gift = service.record_donation(caller(BRANCH), created["id"], {"amount": "100.00"}, None)
    asked = service.request_disbursement(caller(BRANCH), created["id"], {
        "beneficiary_id": created["beneficiaries"][0]["id"], "kind": "cash",
        "amount": "60.00", "purpose": "慰问"})
    service.approve_disbursement(caller(BRANCH), created["id"], asked["id"],
                                 {"approver": "李书记"})
    with pytest.raises(Conflict) as caught:
        service.void_donation(caller(BRANCH), created["id"], gift["id"], {"reason": "wrong"})
    assert caught.value.fields == {"amount": ["100.00 exceeds the cash available (40.00)"]}


def test_goods_already_promised_cannot_be_voided_away(service, tenancy):
    created = service.create_campaign(caller(BRANCH), campaign_body(beneficiaries=[
        {"kind": "village", "name": "王营村", "county": "淮阳区"}]))
    first = goods_gift(service, created, items=[
        {"name": "口罩", "unit": "箱", "quantity": "10", "valuation": "1000.00"}])
    second = goods_gift(service, created, items=[
        {"name": "口罩", "unit": "箱", "quantity": "5", "valuation": "500.00"}])
    asked = service.request_disbursement(caller(BRANCH), created["id"], {
        "beneficiary_id": created["beneficiaries"][0]["id"], "kind": "goods",
        "items": [{"name": "口罩", "unit": "箱", "quantity": "8"}], "purpose": "防疫"})
    service.approve_disbursement(caller(BRANCH), created["id"], asked["id"], {"approver": "李"})
    with pytest.raises(Conflict):
        service.void_donation(caller(BRANCH), created["id"], first["id"], {"reason": "wrong"})
    # 10 left after voiding the 5: still covers the 8 promised
    service.void_donation(caller(BRANCH), created["id"], second["id"], {"reason": "duplicate"})
    totals = service.get_campaign(caller(BRANCH), created["id"])
    assert (totals["goods_total"], totals["goods_voided"]) == ("1000.00", "500.00")
