"""Cash gifts: exact totals, refused amounts, late gifts, receipt numbers, idempotency keys,
tenancy, and the donation_received event in the same transaction."""
import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.donations import gifts
from services.plumbing.clock import china_date as day_in_china
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, NotFound, ValidationFailed

from .conftest import (
    BRANCH,
    COMMITTEE,
    COUNTY,
    ELSEWHERE,
    MEMBER,
    PLATFORM,
    SISTER_BRANCH,
    STRANGER,
    caller,
    campaign_body,
)

# One branch's pandemic-relief collection as it might have come in: 490,982.52 yuan in cash.
SEED_GIFTS = [
    "200000.00", "100000.00", "50000.00", "30000.00", "20000.00", "20000.00", "10000.00",
    "10000.00", "8888.88", "6666.66", "5000.00", "5000.00", "5000.00", "4010.48", "3000.00",
    "3000.00", "2000.00", "2000.00", "1000.00", "1000.00", "1000.00", "888.00", "666.00",
    "500.00", "500.00", "300.00", "200.00", "200.00", "100.00", "50.00", "12.50",
]


def give(service, campaign, amount, who=BRANCH, key=None, **body):
    return service.record_donation(caller(who), campaign["id"], {"amount": amount, **body}, key)


def test_record_a_gift(service, campaign, outbox):
    gift = give(service, campaign, "3000", member_id=MEMBER, channel="wechat")

    assert gift == {
        "id": gift["id"], "campaign_id": campaign["id"], "receipt_no": 1, "kind": "cash",
        "amount": "3000.00", "member_id": MEMBER, "donor": "Zhang Wei", "anonymous": False,
        "public_name": "masked", "late": False, "channel": "wechat",
        "received_at": gift["received_at"], "batch_id": None, "valued_by": None, "items": [],
        "voided": False, "voided_at": None, "void_reason": None, "replayed": False}
    [event] = outbox("donation_received")
    assert event["producer"] == "donations"
    assert event["data"] == {"donation_id": gift["id"], "campaign_id": campaign["id"],
                             "member_id": MEMBER, "amount": "3000.00",
                             "received_at": gift["received_at"]}


def test_named_non_member_unnamed_and_anonymous_donors(service, campaign, outbox):
    assert give(service, campaign, "50.00", donor_name=" Wang Fang ")["donor"] == "Wang Fang"
    unnamed = give(service, campaign, "20.00")
    assert (unnamed["donor"], unnamed["member_id"], unnamed["channel"]) == (None, None, "cash")
    hidden = give(service, campaign, "800.00", member_id=MEMBER, anonymous=True)
    # Anonymous to others, still the member's gift (members credits it to the giver).
    assert (hidden["donor"], hidden["member_id"], hidden["anonymous"]) == (None, MEMBER, True)
    assert outbox("donation_received")[-1]["data"]["member_id"] == MEMBER


def test_the_seed_total_is_reproduced_exactly(service, campaign):
    random.Random(7).shuffle(shuffled := list(SEED_GIFTS))
    for amount in shuffled:
        give(service, campaign, amount)

    totals = service.get_campaign(caller(COMMITTEE), campaign["id"])
    assert totals["cash_total"] == "490982.52"
    assert totals["donation_count"] == len(SEED_GIFTS)
    assert totals["late_count"] == 0


def test_many_random_gifts_sum_exactly(service, campaign):
    rng = random.Random(20261121)
    # Fen amounts across the whole range, including ones binary floating point cannot hold.
    amounts = [Decimal(rng.randint(1, 999_999_999)).scaleb(-2) for _ in range(400)]
    amounts += [Decimal(text) for text in ("0.01", "0.29", "0.57", "1.15", "9999999.99")]
    for amount in amounts:
        give(service, campaign, format(amount, "f"))

    totals = service.get_campaign(caller(BRANCH), campaign["id"])
    assert Decimal(totals["cash_total"]) == sum(amounts)
    assert totals["cash_total"] == format(sum(amounts), "f")
    assert totals["donation_count"] == len(amounts)
    listed = service.list_campaigns(caller(BRANCH), {})["items"][0]
    assert listed["cash_total"] == totals["cash_total"]


@pytest.mark.parametrize("amount, message", [
    ("-5.00", "must be greater than 0.00"),
    ("0", "must be greater than 0.00"),
    ("0.00", "must be greater than 0.00"),
    ("1.005", "must have at most 2 decimal places"),
    (12.5, 'must be a string such as "100.00"'),
    (100, 'must be a string such as "100.00"'),
    ("abc", 'must be an amount in yuan such as "100.00"'),
    ("NaN", 'must be an amount in yuan such as "100.00"'),
    ("1e3", 'must be an amount in yuan such as "100.00"'),
    ("10000000.01", "must be at most 10000000.00"),
    (None, "Field may not be null."),
])
def test_bad_amounts_are_refused_and_nothing_is_written(service, campaign, count, amount,
                                                        message):
    with pytest.raises(ValidationFailed) as caught:
        give(service, campaign, amount)
    assert caught.value.fields == {"amount": [message]}
    assert count("donations") == 0
    assert count("outbox", event_type="donation_received") == 0
    assert service.get_campaign(caller(BRANCH), campaign["id"])["donation_count"] == 0


def test_amount_is_required(service, campaign):
    with pytest.raises(ValidationFailed) as caught:
        service.record_donation(caller(BRANCH), campaign["id"], {"channel": "cash"}, None)
    assert "amount" in caught.value.fields


def test_the_cap_comes_from_config(make_service, campaign):
    service = make_service(DONATION_MAX_AMOUNT="500.00")
    assert give(service, campaign, "500.00")["amount"] == "500.00"
    with pytest.raises(ValidationFailed) as caught:
        give(service, campaign, "500.01")
    assert caught.value.fields == {"amount": ["must be at most 500.00"]}


@pytest.mark.parametrize("body, field", [
    ({"channel": "cheque"}, "channel"),
    ({"anonymous": "yes"}, "anonymous"),
    ({"anonymous": 0}, "anonymous"),
    ({"public_name": "full"}, "public_name"),
    ({"donor_name": "   "}, "donor_name"),
    ({"member_id": MEMBER, "donor_name": "Zhang Wei"}, "donor_name"),
    ({"campaign_id": "another"}, "campaign_id"),
    ({"organiser_org_id": ELSEWHERE}, "organiser_org_id"),
])
def test_bad_bodies_are_refused_field_by_field(service, campaign, count, body, field):
    with pytest.raises(ValidationFailed) as caught:
        give(service, campaign, "10.00", **body)
    assert field in caught.value.fields
    assert count("donations") == 0


def test_a_body_that_is_not_an_object_is_refused(service, campaign):
    with pytest.raises(ValidationFailed):
        service.record_donation(caller(BRANCH), campaign["id"], ["10.00"], None)


def test_a_gift_after_the_deadline_is_accepted_and_marked_late(service, tenancy):
    today = day_in_china(utcnow())
    closed = service.create_campaign(caller(BRANCH), campaign_body(
        opens_on=(today - timedelta(days=30)).isoformat(),
        closes_on=(today - timedelta(days=1)).isoformat()))
    closing_today = service.create_campaign(caller(BRANCH), campaign_body(
        opens_on=(today - timedelta(days=30)).isoformat(), closes_on=today.isoformat()))

    late = give(service, closed, "3000.00", member_id=MEMBER)
    assert late["late"] is True
    assert give(service, closing_today, "3000.00")["late"] is False

    totals = service.get_campaign(caller(BRANCH), closed["id"])
    assert (totals["cash_total"], totals["donation_count"], totals["late_count"]) == (
        "3000.00", 1, 1)


def test_late_means_after_the_last_day_in_china_time():
    # 23:30 on 1 May in Beijing is still 1 May there, though already 15:30 UTC.
    assert str(day_in_china(datetime(2026, 5, 1, 15, 30, tzinfo=UTC))) == "2026-05-01"
    assert str(day_in_china(datetime(2026, 5, 1, 16, 30, tzinfo=UTC))) == "2026-05-02"


def test_receipt_numbers_run_without_gaps_per_campaign(service, campaign, tenancy):
    other = service.create_campaign(caller(BRANCH), campaign_body(title="Flood relief",
                                                                  purpose="flood_relief"))
    numbers = []
    for i in range(12):
        numbers.append(give(service, campaign, "10.00")["receipt_no"])
        if i % 3 == 0:
            # A refused gift in between uses no number.
            with pytest.raises(ValidationFailed):
                give(service, campaign, "10.00", member_id=STRANGER)
            with pytest.raises(ValidationFailed):
                give(service, campaign, "-1.00")
    assert numbers == list(range(1, 13))
    assert give(service, other, "10.00")["receipt_no"] == 1


def test_concurrent_gifts_get_distinct_numbers_without_gaps(make_service, campaign):
    receipts, errors = [], []

    def desk(staff):
        service = make_service()  # one worker per thread, as nameko would run them
        try:
            for _ in range(10):
                receipts.append(give(service, campaign, "1.01", who=staff)["receipt_no"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(staff,))
               for staff in (BRANCH, COMMITTEE, BRANCH, COMMITTEE, BRANCH, COMMITTEE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(receipts) == list(range(1, 61))
    totals = make_service().get_campaign(PLATFORM, campaign["id"])
    assert (totals["cash_total"], totals["donation_count"]) == ("60.60", 60)


# -- idempotency keys ---------------------------------------------------------------------------
def test_the_same_key_and_request_returns_the_original_gift(service, campaign, count, outbox):
    first = give(service, campaign, "100.00", key="desk-7-0001", member_id=MEMBER)
    again = give(service, campaign, "100.00", key="desk-7-0001", member_id=MEMBER)

    assert again == {**first, "replayed": True}
    assert first["replayed"] is False
    assert count("donations") == 1
    assert count("donation_request_keys") == 1
    assert len(outbox("donation_received")) == 1
    assert give(service, campaign, "100.00", key="desk-7-0002", member_id=MEMBER)["receipt_no"] == 2


def test_the_same_request_written_differently_is_still_a_retry(service, campaign, count):
    first = give(service, campaign, "100", key="k-1")
    again = service.record_donation(caller(BRANCH), campaign["id"], {
        "amount": "100.00", "channel": "cash", "anonymous": False, "member_id": None}, "k-1")
    assert again["id"] == first["id"] and again["replayed"] is True
    assert count("donations") == 1


@pytest.mark.parametrize("other_request", [
    {"amount": "100.01"}, {"amount": "100.00", "channel": "alipay"},
    {"amount": "100.00", "anonymous": True}, {"amount": "100.00", "donor_name": "Wang Fang"}])
def test_the_same_key_for_another_request_is_a_conflict(service, campaign, count, outbox,
                                                        other_request):
    give(service, campaign, "100.00", key="k-1")
    with pytest.raises(Conflict) as caught:
        service.record_donation(caller(BRANCH), campaign["id"], other_request, "k-1")
    assert caught.value.fields == {"Idempotency-Key": ["was used for a different request"]}
    assert count("donations") == 1
    assert len(outbox("donation_received")) == 1


def test_the_same_key_for_another_campaign_is_a_conflict(service, campaign, tenancy):
    other = service.create_campaign(caller(BRANCH), campaign_body(title="Flood relief"))
    give(service, campaign, "100.00", key="k-1")
    with pytest.raises(Conflict):
        give(service, other, "100.00", key="k-1")


def test_keys_belong_to_the_callers_org_unit(service, campaign, count):
    by_branch = give(service, campaign, "100.00", who=BRANCH, key="k-1")
    by_committee = give(service, campaign, "100.00", who=COMMITTEE, key="k-1")
    assert by_committee["id"] != by_branch["id"]
    assert by_committee["replayed"] is False
    assert count("donations") == 2


def test_without_a_key_every_request_is_a_new_gift(service, campaign, count):
    give(service, campaign, "100.00")
    give(service, campaign, "100.00")
    assert count("donations") == 2


@pytest.mark.parametrize("key", ["", "x" * 201, 42, ["k"]])
def test_malformed_keys_are_refused(service, campaign, count, key):
    with pytest.raises(ValidationFailed) as caught:
        give(service, campaign, "100.00", key=key)
    assert list(caught.value.fields) == ["Idempotency-Key"]
    assert count("donations") == 0


# -- tenancy ------------------------------------------------------------------------------------
def test_a_campaign_outside_the_callers_subtree_takes_no_gift(service, campaign, count):
    for outsider in (SISTER_BRANCH, ELSEWHERE, "unknown-org"):
        with pytest.raises(NotFound):
            give(service, campaign, "100.00", who=outsider)
    with pytest.raises(NotFound):
        service.record_donation(caller(BRANCH), "no-such-campaign", {"amount": "1.00"}, None)
    assert count("donations") == 0


def test_a_parent_org_and_the_platform_record_gifts_to_a_branch_campaign(service, campaign):
    assert give(service, campaign, "100.00", who=COMMITTEE)["receipt_no"] == 1
    assert service.record_donation(PLATFORM, campaign["id"], {"amount": "1.00"}, None)[
        "receipt_no"] == 2


@pytest.mark.parametrize("member_id", [STRANGER, "member-unknown"])
def test_a_member_outside_the_callers_scope_is_refused(service, campaign, count, member_id):
    with pytest.raises(ValidationFailed) as caught:
        give(service, campaign, "100.00", member_id=member_id)
    assert caught.value.fields == {"member_id": ["no such member in your scope"]}
    assert count("donations") == 0


def test_a_member_is_seen_from_the_host_side_and_the_home_side(service, campaign):
    # MEMBER lives in BRANCH's city (host) and belongs to COUNTY (home): dual management.
    assert give(service, campaign, "100.00", member_id=MEMBER)["donor"] == "Zhang Wei"
    at_home = service.create_campaign(caller(COUNTY), campaign_body(title="School desks",
                                                                    purpose="school_supplies"))
    assert give(service, at_home, "100.00", who=COUNTY, member_id=MEMBER)["member_id"] == MEMBER
    elsewhere = service.create_campaign(caller(ELSEWHERE), campaign_body())
    with pytest.raises(ValidationFailed):
        give(service, elsewhere, "100.00", who=ELSEWHERE, member_id=MEMBER)


# -- one transaction ----------------------------------------------------------------------------
def test_the_gift_and_its_event_are_written_together_or_not_at_all(service, campaign, count,
                                                                     outbox, monkeypatch):
    recorded = gifts.record_donation

    def fail_after_recording(*args, **kwargs):
        recorded(*args, **kwargs)
        raise RuntimeError("the worker died before the commit")

    monkeypatch.setattr(gifts, "record_donation", fail_after_recording)
    with pytest.raises(RuntimeError):
        give(service, campaign, "100.00", key="k-1")
    assert count("donations") == 0
    assert count("donation_request_keys") == 0
    assert outbox("donation_received") == []

    monkeypatch.setattr(gifts, "record_donation", recorded)
    gift = give(service, campaign, "100.00", key="k-1")
    assert gift["receipt_no"] == 1  # the failed attempt used no number
    assert [event["data"]["donation_id"] for event in outbox("donation_received")] == [gift["id"]]
