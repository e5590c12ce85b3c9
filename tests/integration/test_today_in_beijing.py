""""Today" is the day in Beijing for every service, whatever the server's zone: at 02:00 Beijing
time (18:00 UTC the day before) a member's loss of contact and a contact attempt dated today are
accepted, an unmarked loss of contact is dated today in Beijing, and a campaign whose last day
was yesterday in Beijing is closed. The clock is stopped for the whole platform at once through
`services.plumbing.envelope.utcnow`, the one clock `today_in_china()` reads."""
from datetime import UTC, date, datetime, timedelta

import pytest

from services.plumbing import clock, envelope

from .helpers import build_world, register_member

pytestmark = pytest.mark.integration

# 02:00 on the 11th in Beijing is 18:00 on the 10th in UTC: the server's own date is the 10th.
BEIJING_DAY = date(2031, 3, 11)
FROZEN = datetime(2031, 3, 10, 18, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(envelope, "utcnow", lambda: FROZEN)
    return FROZEN


def test_today_in_china_at_two_in_the_morning(frozen_clock):
    assert clock.today_in_china() == BEIJING_DAY
    assert FROZEN.date() == BEIJING_DAY - timedelta(days=1)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_members_take_beijings_today_at_two_in_the_morning(platform, frozen_clock):
    platform.start("members")
    world = build_world(platform)
    a = world["a"]
    member = register_member(a, 7)
    base = f"/api/v1/members/{member['id']}"
    assert a["branch_office"].post(f"{base}/accept")[0] == 200
    status, body = a["office"].post(f"{base}/lose-contact",
                                    {"occurred_on": BEIJING_DAY.isoformat()})
    assert status == 200, body
    assert body["lost_contact_on"] == BEIJING_DAY.isoformat()
    status, attempt = a["office"].post(f"{base}/contact-attempts", {
        "attempted_on": BEIJING_DAY.isoformat(), "method": "phone", "outcome": "无人接听"})
    assert status == 201, attempt
    # tomorrow in Beijing is still the future
    status, body = a["office"].post(f"{base}/contact-attempts", {
        "attempted_on": (BEIJING_DAY + timedelta(days=1)).isoformat(), "method": "phone",
        "outcome": "x"})
    assert status == 400, body
    # a step without a date is dated today in Beijing
    assert a["office"].post(f"{base}/found")[0] == 200
    status, history = a["office"].get(f"{base}/history")
    assert status == 200, history
    assert history["items"][-1]["occurred_on"] == BEIJING_DAY.isoformat()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_donations_close_by_beijings_today(platform, frozen_clock):
    platform.start("members", "donations")
    world = build_world(platform)
    office = world["a"]["branch_office"]
    yesterday = BEIJING_DAY - timedelta(days=1)
    status, campaign = office.post("/api/v1/campaigns", {
        "title": "春耕", "purpose": "other", "opens_on": (yesterday - timedelta(days=9)).isoformat(),
        "closes_on": yesterday.isoformat()})
    assert status == 201, campaign
    status, campaign = office.get(f"/api/v1/campaigns/{campaign['id']}")
    assert campaign["status"] == "closed"
