"""Campaigns: created by the caller's org unit, seen from its subtree, listed page by page."""
import pytest

from services.plumbing.errors import Forbidden, NotFound, ValidationFailed

from .conftest import BRANCH, COMMITTEE, ELSEWHERE, PLATFORM, SISTER_BRANCH, caller, campaign_body


def test_health(service):
    assert service.health() == {"status": "ok"}


def test_create_campaign(service, tenancy, count, outbox):
    created = service.create_campaign(caller(BRANCH), campaign_body(goal="500000"))

    zero = "0.00"
    assert created == {
        "id": created["id"], "organiser_org_id": BRANCH, "title": "Pandemic relief",
        "purpose": "pandemic_relief", "goal": "500000.00", "opens_on": "2026-01-01",
        "closes_on": "2099-12-31", "status": "open", "public": False,
        "created_at": created["created_at"], "closed_at": None, "closed_how": None,
        "beneficiaries": [], "cash_total": zero, "goods_total": zero, "raised_total": zero,
        "donation_count": 0, "late_count": 0, "cash_received": zero, "cash_voided": zero,
        "goods_voided": zero, "voided_count": 0, "cash_disbursed": zero, "cash_reserved": zero,
        "cash_balance": zero, "progress_percent": "0.00"}
    assert service.get_campaign(caller(BRANCH), created["id"]) == created
    [opened] = outbox("campaign_opened")
    assert opened["producer"] == "donations"
    assert opened["data"]["campaign_id"] == created["id"]
    assert opened["data"]["organiser_org_id"] == BRANCH


def test_the_organiser_is_the_callers_org_never_one_from_the_body(service, tenancy):
    with pytest.raises(ValidationFailed) as caught:
        service.create_campaign(caller(BRANCH), campaign_body(organiser_org_id=ELSEWHERE))
    assert "organiser_org_id" in caught.value.fields


def test_goal_is_optional(service, tenancy):
    body = campaign_body()
    del body["goal"]
    assert service.create_campaign(caller(BRANCH), body)["goal"] is None


@pytest.mark.parametrize("overrides, field", [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"purpose": "birthday_party"}, "purpose"),
    ({"goal": 500000}, "goal"),
    ({"goal": "0.00"}, "goal"),
    ({"goal": "-1.00"}, "goal"),
    ({"goal": "100.001"}, "goal"),
    ({"opens_on": "2026-02-30"}, "opens_on"),
    ({"closes_on": "next week"}, "closes_on"),
    ({"opens_on": "2026-03-01", "closes_on": "2026-02-28"}, "closes_on"),
    ({"draft": 0}, "draft"),
    ({"public": 1}, "public"),
    ({"public": "true"}, "public"),
    ({"status": "settled"}, "status"),
])
def test_invalid_campaigns_are_refused_field_by_field(service, tenancy, count, overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        service.create_campaign(caller(BRANCH), campaign_body(**overrides))
    assert field in caught.value.fields
    assert count("campaigns") == 0
    assert count("outbox") == 0


def test_a_campaign_may_open_and_close_on_one_day(service, tenancy):
    created = service.create_campaign(caller(BRANCH), campaign_body(
        opens_on="2026-05-01", closes_on="2026-05-01"))
    assert created["closes_on"] == "2026-05-01"


def test_a_platform_wide_key_organises_no_campaign(service, tenancy, count):
    with pytest.raises(Forbidden):
        service.create_campaign(PLATFORM, campaign_body())
    assert count("campaigns") == 0


def test_an_org_unit_unknown_here_organises_no_campaign(service, tenancy, count):
    with pytest.raises(Forbidden):
        service.create_campaign(caller("not-yet-announced"), campaign_body())
    assert count("campaigns") == 0


def test_a_campaign_is_seen_from_its_organisers_subtree_only(service, campaign):
    for viewer in (caller(BRANCH), caller(COMMITTEE), PLATFORM):
        assert service.get_campaign(viewer, campaign["id"])["id"] == campaign["id"]
    for outsider in (caller(SISTER_BRANCH), caller(ELSEWHERE), caller("unknown-org")):
        with pytest.raises(NotFound):
            service.get_campaign(outsider, campaign["id"])


@pytest.mark.parametrize("campaign_id", ["no-such-campaign", 42, None, {"id": "x"}])
def test_unknown_campaign(service, tenancy, campaign_id):
    with pytest.raises(NotFound):
        service.get_campaign(caller(BRANCH), campaign_id)


def test_list_campaigns_pages_through_the_callers_subtree(service, tenancy):
    branch_ids = [service.create_campaign(caller(BRANCH), campaign_body(title=f"B{i}"))["id"]
                  for i in range(3)]
    sister_ids = [service.create_campaign(caller(SISTER_BRANCH), campaign_body(title=f"S{i}"))["id"]
                  for i in range(2)]
    service.create_campaign(caller(ELSEWHERE), campaign_body(title="far away"))

    seen, cursor = [], None
    while True:
        result = service.list_campaigns(caller(COMMITTEE), {"limit": 2, "cursor": cursor})
        assert len(result["items"]) <= 2
        seen += [item["id"] for item in result["items"]]
        cursor = result["next_cursor"]
        if cursor is None:
            break
    assert seen == branch_ids + sister_ids

    only_branch = service.list_campaigns(caller(BRANCH), {})
    assert [item["id"] for item in only_branch["items"]] == branch_ids
    assert only_branch["next_cursor"] is None
    assert only_branch["items"][0]["cash_total"] == "0.00"
    assert len(service.list_campaigns(PLATFORM, {})["items"]) == 6
    assert service.list_campaigns(caller("unknown-org"), {})["items"] == []


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"cursor": "garbage"}, "cursor"),
    ({"organiser_org_id": ELSEWHERE}, "organiser_org_id")])
def test_list_campaigns_rejects_bad_params(service, tenancy, params, field):
    with pytest.raises(ValidationFailed) as caught:
        service.list_campaigns(caller(BRANCH), params)
    assert field in caught.value.fields
