"""Campaign status: draft → open → closed → settled; closing by date (the timer, once) or by
hand; beneficiaries; gifts refused before opening and after settling, never for lateness."""
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.donations import campaigns
from services.plumbing import envelope
from services.plumbing.clock import CHINA, today_in_china
from services.plumbing.errors import InvalidTransition, NotFound, ValidationFailed

from .conftest import BRANCH, COMMITTEE, ELSEWHERE, PLATFORM, caller, campaign_body

VILLAGE = {"kind": "village", "name": "王营村", "county": "淮阳区"}
SCHOOL = {"kind": "school", "name": "黑水县芦花小学", "county": "黑水县"}


def test_beneficiaries_are_kept_with_the_campaign(service, tenancy):
    created = service.create_campaign(caller(BRANCH), campaign_body(
        beneficiaries=[VILLAGE, SCHOOL]))
    assert sorted((b["kind"], b["name"], b["county"]) for b in created["beneficiaries"]) == [
        ("school", "黑水县芦花小学", "黑水县"), ("village", "王营村", "淮阳区")]
    assert all(b["id"] for b in created["beneficiaries"])
    assert service.get_campaign(caller(COMMITTEE), created["id"])["beneficiaries"] == \
        created["beneficiaries"]


@pytest.mark.parametrize("beneficiary, field", [
    ({"kind": "city", "name": "x", "county": "y"}, "beneficiaries.0.kind"),
    ({"kind": "village", "name": " ", "county": "y"}, "beneficiaries.0.name"),
    ({"kind": "village", "name": "x"}, "beneficiaries.0.county"),
    ({"kind": "village", "name": "x", "county": "y", "id": "mine"}, "beneficiaries.0.id"),
])
def test_bad_beneficiaries_are_refused(service, tenancy, count, beneficiary, field):
    with pytest.raises(ValidationFailed) as caught:
        service.create_campaign(caller(BRANCH), campaign_body(beneficiaries=[beneficiary]))
    assert field in caught.value.fields
    assert count("campaigns") == 0 and count("beneficiaries") == 0


def test_a_draft_takes_no_gifts_until_opened(service, tenancy, outbox):
    draft = service.create_campaign(caller(BRANCH), campaign_body(draft=True))
    assert draft["status"] == "draft"
    assert outbox("campaign_opened") == []
    with pytest.raises(InvalidTransition):
        service.record_donation(caller(BRANCH), draft["id"], {"amount": "1.00"}, None)

    opened = service.open_campaign(caller(BRANCH), draft["id"])
    assert opened["status"] == "open"
    assert [e["data"]["campaign_id"] for e in outbox("campaign_opened")] == [draft["id"]]
    assert service.record_donation(caller(BRANCH), draft["id"], {"amount": "1.00"},
                                   None)["receipt_no"] == 1
    with pytest.raises(InvalidTransition):
        service.open_campaign(caller(BRANCH), draft["id"])


def test_closing_by_hand_marks_later_gifts_late(service, campaign, outbox):
    closed = service.close_campaign(caller(BRANCH), campaign["id"])
    assert (closed["status"], closed["closed_how"]) == ("closed", "hand")
    [event] = outbox("campaign_closed")
    assert event["data"]["campaign_id"] == campaign["id"]
    assert event["data"]["closed_how"] == "hand"
    # closes_on is far away, but the campaign was closed: the gift is still taken, and late.
    gift = service.record_donation(caller(BRANCH), campaign["id"], {"amount": "3000.00"}, None)
    assert gift["late"] is True
    with pytest.raises(InvalidTransition):
        service.close_campaign(caller(BRANCH), campaign["id"])
    assert len(outbox("campaign_closed")) == 1


def yesterday_noon_in_china(monkeypatch):
    """The clock of every `today_in_china()` stopped at noon yesterday (Beijing time)."""
    moment = datetime.combine(today_in_china() - timedelta(days=1), time(12), CHINA)
    monkeypatch.setattr(envelope, "utcnow", lambda: moment.astimezone(UTC))


def test_the_timer_closes_campaigns_past_their_last_day_once(service, tenancy, outbox,
                                                             monkeypatch):
    today = today_in_china()
    with monkeypatch.context() as yesterday:
        yesterday_noon_in_china(yesterday)  # created on their last day, so still open
        past = service.create_campaign(caller(BRANCH), campaign_body(
            opens_on=str(today - timedelta(days=10)), closes_on=str(today - timedelta(days=1))))
        draft = service.create_campaign(caller(BRANCH), campaign_body(
            opens_on=str(today - timedelta(days=10)), closes_on=str(today - timedelta(days=1)),
            draft=True))
        service.record_donation(caller(BRANCH), past["id"], {"amount": "12.34"}, None)
    last_day = service.create_campaign(caller(BRANCH), campaign_body(
        opens_on=str(today - timedelta(days=10)), closes_on=str(today)))

    assert service.close_due_campaigns() == [past["id"]]
    assert service.close_due_campaigns() == []  # a second tick finds nothing to close

    [event] = outbox("campaign_closed")
    assert event["data"]["campaign_id"] == past["id"]
    assert (event["data"]["closed_how"], event["data"]["cash_total"]) == ("date", "12.34")
    assert service.get_campaign(caller(BRANCH), past["id"])["status"] == "closed"
    assert service.get_campaign(caller(BRANCH), last_day["id"])["status"] == "open"
    assert service.get_campaign(caller(BRANCH), draft["id"])["status"] == "draft"


def test_a_campaign_entered_after_its_last_day_is_closed_on_the_first_read(service, tenancy,
                                                                            outbox):
    last_day = str(today_in_china() - timedelta(days=1))
    created = service.create_campaign(caller(BRANCH), campaign_body(
        opens_on=str(today_in_china() - timedelta(days=10)), closes_on=last_day))
    assert created["status"] == "closed"
    assert service.get_campaign(caller(BRANCH), created["id"])["status"] == "closed"
    draft = service.create_campaign(caller(BRANCH), campaign_body(
        opens_on=str(today_in_china() - timedelta(days=10)), closes_on=last_day, draft=True))
    assert service.open_campaign(caller(BRANCH), draft["id"])["status"] == "closed"
    assert sorted(e["data"]["campaign_id"] for e in outbox("campaign_closed")) == sorted(
        [created["id"], draft["id"]])
    assert service.close_due_campaigns() == []
    # a gift after the last day is still taken, and late
    gift = service.record_donation(caller(BRANCH), created["id"], {"amount": "5.00"}, None)
    assert gift["late"] is True


def test_the_timer_closes_by_the_day_in_china(engine, service, tenancy, monkeypatch):
    from sqlalchemy.orm import sessionmaker

    from services.donations.models import PLUMBING
    from services.plumbing.db import Transaction
    monkeypatch.setattr(envelope, "utcnow", lambda: datetime(2026, 5, 1, 4, tzinfo=UTC))
    created = service.create_campaign(caller(BRANCH), campaign_body(
        opens_on="2026-05-01", closes_on="2026-05-01"))
    with sessionmaker(engine)() as session:
        tx = Transaction(session, PLUMBING, None)
        assert campaigns.close_due_campaigns(tx, date(2026, 5, 1)) == []
        assert campaigns.close_due_campaigns(tx, date(2026, 5, 2)) == [created["id"]]
        session.commit()


def test_settling_needs_a_closed_campaign_with_nothing_left(service, tenancy):
    created = service.create_campaign(caller(BRANCH), campaign_body(beneficiaries=[VILLAGE]))
    village = created["beneficiaries"][0]["id"]
    with pytest.raises(InvalidTransition):
        service.settle_campaign(caller(BRANCH), created["id"])  # still open
    service.record_donation(caller(BRANCH), created["id"], {"amount": "100.00"}, None)
    service.close_campaign(caller(BRANCH), created["id"])
    with pytest.raises(InvalidTransition) as caught:
        service.settle_campaign(caller(BRANCH), created["id"])
    assert caught.value.fields == {"cash_balance": ["100.00 yuan not handed over yet"]}

    asked = service.request_disbursement(caller(BRANCH), created["id"], {
        "beneficiary_id": village, "kind": "cash", "amount": "100.00", "purpose": "口罩"})
    with pytest.raises(InvalidTransition) as caught:
        service.settle_campaign(caller(BRANCH), created["id"])
    assert "disbursements" in caught.value.fields
    service.approve_disbursement(caller(BRANCH), created["id"], asked["id"],
                                 {"approver": "李书记"})
    service.pay_disbursement(caller(BRANCH), created["id"], asked["id"], {
        "acknowledgement_ref": "王营村收条 2020-001", "disbursed_on": "2020-02-10"})

    settled = service.settle_campaign(caller(BRANCH), created["id"])
    assert (settled["status"], settled["cash_balance"], settled["cash_disbursed"]) == (
        "settled", "0.00", "100.00")
    with pytest.raises(InvalidTransition):
        service.record_donation(caller(BRANCH), created["id"], {"amount": "1.00"}, None)


def test_status_steps_respect_tenancy(service, campaign):
    for step in (service.open_campaign, service.close_campaign, service.settle_campaign):
        with pytest.raises(NotFound):
            step(caller(ELSEWHERE), campaign["id"])
    assert service.close_campaign(PLATFORM, campaign["id"])["status"] == "closed"


def test_campaigns_are_listed_by_status(service, tenancy):
    draft = service.create_campaign(caller(BRANCH), campaign_body(draft=True))
    opened = service.create_campaign(caller(BRANCH), campaign_body())
    assert [c["id"] for c in service.list_campaigns(caller(BRANCH), {"status": "draft"})[
        "items"]] == [draft["id"]]
    assert [c["id"] for c in service.list_campaigns(caller(BRANCH), {"status": "open"})[
        "items"]] == [opened["id"]]
    with pytest.raises(ValidationFailed):
        service.list_campaigns(caller(BRANCH), {"status": "finished"})


def test_goods_left_in_store_keep_a_campaign_from_settling(service, tenancy):
    created = service.create_campaign(caller(BRANCH), campaign_body(beneficiaries=[VILLAGE]))
    service.record_in_kind_donation(caller(BRANCH), created["id"], {
        "items": [{"name": "口罩", "unit": "箱", "quantity": "10", "valuation": "600.00"}],
        "valued_by": "王会计"}, None)
    service.close_campaign(caller(BRANCH), created["id"])
    with pytest.raises(InvalidTransition) as caught:
        service.settle_campaign(caller(BRANCH), created["id"])
    assert caught.value.fields == {"goods": ["not handed over yet: 10.00 箱 of 口罩"]}
    asked = service.request_disbursement(caller(BRANCH), created["id"], {
        "beneficiary_id": created["beneficiaries"][0]["id"], "kind": "goods",
        "items": [{"name": "口罩", "unit": "箱", "quantity": "10"}], "purpose": "防疫"})
    service.approve_disbursement(caller(BRANCH), created["id"], asked["id"], {"approver": "李"})
    service.pay_disbursement(caller(BRANCH), created["id"], asked["id"], {
        "acknowledgement_ref": "收条", "disbursed_on": "2020-02-10"})
    assert service.settle_campaign(caller(BRANCH), created["id"])["status"] == "settled"
