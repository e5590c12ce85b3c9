"""Activities, the yearly tally in one query, study points visible from the home org, rankings
and volunteer hours (worker_factory on SQLite)."""

import pytest

from services.plumbing.errors import InvalidTransition, NotFound, ValidationFailed

from .world import build, office, register


@pytest.fixture
def w(service):
    world = build(service)
    world["a"] = register(service, world, 1, name="甲")
    world["b"] = register(service, world, 2, name="乙")
    world["c"] = register(service, world, 3, name="丙", host_org_id=world["branch2"]["id"])
    return world


def activity(service, w, kind, held_on="2026-05-04", org="branch", title="活动"):
    return service.create_activity(office(w[org]), {
        "org_id": w[org]["id"], "kind": kind, "title": title, "held_on": held_on, "place": "丰台"})


def test_yearly_tally_by_kind_is_one_query(service, w, statements):
    plan = {"meetings_and_lecture": 16, "red_education_visit": 5, "themed_party_day": 12,
            "community_service": 4, "film_lecture": 9}
    for kind, count in plan.items():
        for index in range(count):
            activity(service, w, kind, held_on=f"2026-{index % 12 + 1:02d}-01",
                     org="branch" if index % 2 else "second")
    activity(service, w, "film_lecture", held_on="2025-12-31")
    activity(service, w, "film_lecture", org="other_branch")
    statements.clear()
    report = service.activity_tally(office(w["committee"]), {"year": "2026"})
    tally_queries = [sql for sql in statements if "FROM activities" in sql]
    assert report["totals"] == plan
    assert len(tally_queries) == 1
    by_org = {(r["org_id"], r["kind"]): r["count"] for r in report["rows"]}
    assert by_org[(w["branch"]["id"], "meetings_and_lecture")] == 8
    assert by_org[(w["second"]["id"], "meetings_and_lecture")] == 8
    branch_only = service.activity_tally(office(w["committee"]), {"year": "2026", "org_id": w["branch"]["id"]})
    assert branch_only["totals"]["meetings_and_lecture"] == 8
    with pytest.raises(NotFound):
        service.activity_tally(office(w["other_committee"]), {"year": "2026", "org_id": w["branch"]["id"]})


def test_sign_up_leave_and_attendance(service, w):
    act = activity(service, w, "volunteer_service")
    branch = office(w["branch"])
    assert service.participate(branch, act["id"], "sign_up", {"member_id": w["a"]["id"]})["status"] == "signed_up"
    with pytest.raises(ValidationFailed):
        service.participate(branch, act["id"], "leave", {"member_id": w["a"]["id"]})
    leave = service.participate(branch, act["id"], "leave", {"member_id": w["a"]["id"], "reason": "加班"})
    assert (leave["status"], leave["leave_reason"]) == ("on_leave", "加班")
    attended = service.participate(branch, act["id"], "attend",
                                   {"member_id": w["b"]["id"], "volunteer_hours": 8.5})
    assert attended["status"] == "attended" and attended["volunteer_hours"] == "8.50"
    with pytest.raises(InvalidTransition):
        service.participate(branch, act["id"], "attend", {"member_id": w["b"]["id"]})
    with pytest.raises(InvalidTransition):
        service.participate(branch, act["id"], "leave", {"member_id": w["b"]["id"], "reason": "x"})
    with pytest.raises(ValidationFailed):  # 丙 is hosted by the other branch: not the branch's
        service.participate(branch, act["id"], "sign_up", {"member_id": w["c"]["id"]})
    with pytest.raises(NotFound):
        service.participate(office(w["other_branch"]), act["id"], "sign_up", {"member_id": w["a"]["id"]})
    second = activity(service, w, "volunteer_service", held_on="2026-06-01")
    service.participate(branch, second["id"], "attend", {"member_id": w["b"]["id"], "volunteer_hours": 4})
    hours = service.volunteer_hours(office(w["county"]), w["b"]["id"])
    assert hours["total"] == "12.50" and [i["hours"] for i in hours["items"]] == ["8.50", "4.00"]


def test_points_by_county_rule_visible_from_home_and_ranked(service, w):
    county = office(w["county"])
    service.set_point_rule(county, {"county_org_id": w["county"]["id"],
                                    "activity_kind": "themed_party_day", "points": 5})
    service.set_point_rule(county, {"county_org_id": w["county"]["id"],
                                    "activity_kind": "film_lecture", "points": 2})
    service.set_point_rule(county, {"county_org_id": w["county"]["id"],
                                    "activity_kind": "film_lecture", "points": 3})
    assert {r["activity_kind"]: r["points"] for r in service.list_point_rules(
        county, {"county_org_id": w["county"]["id"]})["items"]} == {"themed_party_day": 5, "film_lecture": 3}
    with pytest.raises(ValidationFailed):  # a host committee cannot set a county's rules
        service.set_point_rule(office(w["committee"]), {
            "county_org_id": w["county"]["id"], "activity_kind": "film_lecture", "points": 9})
    may = activity(service, w, "themed_party_day", held_on="2026-05-01")
    june = activity(service, w, "film_lecture", held_on="2026-06-01")
    other = activity(service, w, "film_lecture", held_on="2026-06-02", org="branch2")
    branch = office(w["branch"])
    assert service.participate(branch, may["id"], "attend", {"member_id": w["a"]["id"]})["points_awarded"] == 5
    service.participate(branch, june["id"], "attend", {"member_id": w["a"]["id"]})
    service.participate(branch, june["id"], "attend", {"member_id": w["b"]["id"]})
    service.participate(office(w["branch2"]), other["id"], "attend", {"member_id": w["c"]["id"]})
    service.award_points(county, w["b"]["id"], {"points": 10, "reason": "学习竞赛一等奖",
                                                "earned_on": "2026-06-20"})
    # the home county sees points earned at the host branch
    ledger = service.point_ledger(county, w["a"]["id"])
    assert ledger["total"] == 8
    assert {e["earned_at_org_id"] for e in ledger["items"]} == {w["branch"]["id"]}
    yearly = service.points_ranking(county, {"year": "2026"})
    assert [(r["rank"], r["name"], r["points"]) for r in yearly["items"]] == [
        (1, "乙", 13), (2, "甲", 8), (3, "丙", 3)]
    june_rank = service.points_ranking(county, {"year": "2026", "month": "6"})
    assert [(r["rank"], r["name"], r["points"]) for r in june_rank["items"]] == [
        (1, "乙", 13), (2, "丙", 3), (2, "甲", 3)]
    branch_rank = service.points_ranking(office(w["branch"]), {"year": "2026"})
    assert [r["name"] for r in branch_rank["items"]] == ["乙", "甲"]
    assert service.points_ranking(office(w["other_county"]), {"year": "2026"})["items"] == []
