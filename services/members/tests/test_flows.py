"""The flow lifecycle: every transition, its refusal cases, the append-only history, one event
per change; self-reports; finding lost members (worker_factory on SQLite)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.members.models import FlowRecord
from services.plumbing.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed

from .world import ADMIN, id_number, office, outbox, register


def flow_events(uow):
    return [(e["event_type"], e["data"]["host_org_id"], e["data"]["status"])
            for e in outbox(uow) if e["event_type"].startswith("member_") and
            e["event_type"] != "member_registered"]


def test_the_whole_lifecycle_each_step_one_event_and_one_record(service, w, uow):
    home, host = office(w["county"]), office(w["branch"])
    member = register(service, w, 1, host_org_id=None)
    def step(caller, action, **body):
        return service.flow_step(caller, member["id"], action, body)
    assert step(home, "flow_out", host_org_id=w["branch"]["id"])["status"] == "pending"
    assert step(host, "accept")["status"] == "active"
    moved = step(office(w["second"]), "move", host_org_id=w["branch2"]["id"])
    assert moved["host_org_id"] == w["branch2"]["id"]
    lost_on = (date.today() - timedelta(days=30)).isoformat()
    lost = step(office(w["branch2"]), "lose_contact", occurred_on=lost_on, reason="电话停机")
    assert (lost["status"], lost["lost_contact_on"]) == ("lost", lost_on)
    found = step(home, "found", reason="老乡提供线索")
    assert (found["status"], found["lost_contact_on"]) == ("active", None)
    back = step(home, "return_home", reason="回乡创业")
    assert (back["status"], back["host_org_id"]) == ("returned", None)
    assert flow_events(uow) == [
        ("member_flowed_out", w["branch"]["id"], "pending"),
        ("member_flow_accepted", w["branch"]["id"], "active"),
        ("member_moved", w["branch2"]["id"], "active"),
        ("member_lost_contact", w["branch2"]["id"], "lost"),
        ("member_found", w["branch2"]["id"], "active"),
        ("member_returned", None, "returned"),
    ]
    history = service.member_history(home, member["id"])["items"]
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("registered", None, "registered"), ("flow_out", "registered", "pending"),
        ("accept", "pending", "active"), ("move", "active", "active"),
        ("lose_contact", "active", "lost"), ("found", "lost", "active"),
        ("return_home", "active", "returned")]
    assert history[3]["from_host_org_id"] == w["branch"]["id"]
    assert history[4]["occurred_on"] == lost_on and history[4]["reason"] == "电话停机"
    assert history[2]["actor_org_id"] == w["branch"]["id"] and history[2]["actor_key_id"]
    # after returning home the member may flow out again
    assert step(home, "flow_out", host_org_id=w["other_branch"]["id"])["status"] == "pending"


def test_refusal_needs_a_reason_and_clears_the_host(service, w, uow):
    member = register(service, w, 2)
    with pytest.raises(ValidationFailed) as error:
        service.flow_step(office(w["branch"]), member["id"], "refuse", {"reason": "  "})
    assert "reason" in error.value.fields
    refused = service.flow_step(office(w["branch"]), member["id"], "refuse",
                                {"reason": "查无此人"})
    assert (refused["status"], refused["host_org_id"]) == ("refused", None)
    # the branch no longer sees the member; the home county still does
    with pytest.raises(NotFound):
        service.get_member(office(w["branch"]), member["id"])
    assert service.member_history(office(w["county"]), member["id"])["items"][-1]["reason"] == "查无此人"
    assert flow_events(uow) == [("member_flow_refused", None, "refused")]


@pytest.mark.parametrize("status_path, action, body", [
    ([], "move", "branch2"),                      # pending cannot be moved
    ([], "found", None),                          # only a lost member is found
    ([("accept", None)], "accept", None),         # accepted twice
    ([("accept", None)], "refuse", None),         # refusing after acceptance
    ([("accept", None)], "flow_out", "branch2"),  # already flowed out
    ([("return_home", None)], "accept", None),    # returned: nothing to accept
    ([("return_home", None)], "lose_contact", None),
])
def test_invalid_transitions_are_409_and_change_nothing(service, w, uow, status_path, action, body):
    member = register(service, w, 3)
    for step, _ in status_path:
        caller = office(w["county"]) if step == "return_home" else office(w["branch"])
        service.flow_step(caller, member["id"], step, {})
    before = (service.get_member(ADMIN, member["id"]), len(outbox(uow)))
    payload = {"reason": "x"}
    if body:
        payload["host_org_id"] = w[body]["id"]
    with pytest.raises(InvalidTransition):
        service.flow_step(ADMIN, member["id"], action, payload)
    assert (service.get_member(ADMIN, member["id"]), len(outbox(uow))) == before


def test_each_side_may_only_take_its_own_steps(service, w):
    member = register(service, w, 4)
    with pytest.raises(Forbidden):  # accepting is the host's step
        service.flow_step(office(w["county"]), member["id"], "accept", {})
    with pytest.raises(NotFound):   # a host outside both subtrees does not see the member
        service.flow_step(office(w["other_committee"]), member["id"], "accept", {})
    service.flow_step(office(w["branch"]), member["id"], "accept", {})
    with pytest.raises(Forbidden):  # moving is the host side's step
        service.flow_step(office(w["county"]), member["id"], "move",
                          {"host_org_id": w["branch2"]["id"]})
    with pytest.raises(ValidationFailed):  # the target must be in the mover's subtree
        service.flow_step(office(w["branch"]), member["id"], "move",
                          {"host_org_id": w["branch2"]["id"]})


def test_step_input_is_checked(service, w):
    member = register(service, w, 5, host_org_id=None)
    home = office(w["county"])
    for body, field in [({}, "host_org_id"), ({"host_org_id": w["township"]["id"]}, "host_org_id"),
                        ({"host_org_id": "nope"}, "host_org_id"),
                        ({"host_org_id": w["branch"]["id"], "occurred_on": "2999-01-01"}, "occurred_on"),
                        ({"host_org_id": w["branch"]["id"], "status": "active"}, "status")]:
        with pytest.raises(ValidationFailed) as error:
            service.flow_step(home, member["id"], "flow_out", body)
        assert field in error.value.fields, body
    with pytest.raises(ValidationFailed):
        service.flow_step(office(w["branch"]), member["id"], "accept", {"host_org_id": w["branch"]["id"]})


def test_history_is_append_only_one_row_per_step(service, w, uow):
    member = register(service, w, 6)
    service.flow_step(office(w["branch"]), member["id"], "accept", {})
    with uow.read() as session:
        first = [(r.id, r.action, r.to_status) for r in session.scalars(select(FlowRecord))]
    service.flow_step(office(w["branch"]), member["id"], "lose_contact", {})
    with uow.read() as session:
        after = [(r.id, r.action, r.to_status) for r in session.scalars(select(FlowRecord).order_by(FlowRecord.id))]
    assert after[:len(first)] == first and len(after) == len(first) + 1


# -- self-reports -----------------------------------------------------------------------------------
def self_report(service, w, serial, **fields):
    body = {"name": f"报到{serial}", "id_number": id_number(serial), "phone": "13900001111",
            "home_org_id": w["village"]["id"], "host_org_id": w["branch"]["id"]}
    body.update(fields)
    return service.create_self_report(office(w["branch"]), body)


def test_self_report_queue_accept_registers_an_unknown_member(service, w, uow):
    report = self_report(service, w, 20)
    queue = service.list_self_reports(office(w["committee"]), {})["items"]
    assert [r["id"] for r in queue] == [report["id"]]
    assert service.list_self_reports(office(w["other_committee"]), {})["items"] == []
    decided = service.decide_self_report(office(w["branch"]), report["id"], True, {})
    member = service.get_member(office(w["county"]), decided["member_id"])
    assert (member["status"], member["host_org_id"]) == ("active", w["branch"]["id"])
    assert service.list_self_reports(office(w["branch"]), {})["items"] == []
    with pytest.raises(InvalidTransition):
        service.decide_self_report(office(w["branch"]), report["id"], True, {})
    assert len(outbox(uow, "member_registered")) == 1
    # the same events as registering for this host and accepting: the home side hears of it
    assert flow_events(uow) == [("member_flow_accepted", w["branch"]["id"], "active")]
    history = service.member_history(office(w["county"]), member["id"])["items"]
    assert [(h["action"], h["to_status"], h["reason"]) for h in history] == [
        ("registered", "pending", f"self-report {report['id']}"),
        ("accept", "active", f"self-report {report['id']}")]


def test_self_report_of_a_pending_member_accepts_the_flow(service, w, uow):
    member = register(service, w, 21)
    report = self_report(service, w, 21)
    decided = service.decide_self_report(office(w["branch"]), report["id"], True, {})
    assert decided["member_id"] == member["id"]
    assert service.get_member(ADMIN, member["id"])["status"] == "active"
    assert flow_events(uow) == [("member_flow_accepted", w["branch"]["id"], "active")]


def test_self_report_refusal_needs_a_reason_and_other_hosts_cannot_decide(service, w):
    report = self_report(service, w, 22)
    with pytest.raises(NotFound):
        service.decide_self_report(office(w["other_branch"]), report["id"], False, {"reason": "x"})
    with pytest.raises(ValidationFailed):
        service.decide_self_report(office(w["branch"]), report["id"], False, {})
    refused = service.decide_self_report(office(w["branch"]), report["id"], False, {"reason": "身份不符"})
    assert refused["status"] == "refused" and refused["member_id"] is None
    with pytest.raises(ValidationFailed):  # a branch takes reports only for its own units
        self_report(service, w, 23, host_org_id=w["other_branch"]["id"])
    with pytest.raises(ValidationFailed):
        self_report(service, w, 23, id_number=id_number(23)[:-1] + "0"
                    if id_number(23)[-1] != "0" else id_number(23)[:-1] + "1")


# -- finding members --------------------------------------------------------------------------------
def test_lost_list_contact_attempts_and_found_stats(service, w):
    members = [register(service, w, 30 + i) for i in range(3)]
    for m in members:
        service.flow_step(office(w["branch"]), m["id"], "accept", {})
        service.flow_step(office(w["branch"]), m["id"], "lose_contact", {"occurred_on": "2026-01-05"})
    lost = service.list_members(office(w["county"]), {"lost_contact": True})["items"]
    assert {m["id"] for m in lost} == {m["id"] for m in members}
    attempt = service.log_contact_attempt(office(w["branch"]), members[0]["id"], {
        "attempted_on": "2026-02-01", "method": "relatives", "outcome": "家属说在天津"})
    assert attempt["org_id"] == w["branch"]["id"]
    assert len(service.list_contact_attempts(office(w["county"]), members[0]["id"])["items"]) == 1
    service.flow_step(office(w["branch"]), members[0]["id"], "found", {"occurred_on": "2026-02-03"})
    service.flow_step(office(w["county"]), members[1]["id"], "found", {"occurred_on": "2026-02-10"})
    service.flow_step(office(w["county"]), members[2]["id"], "found", {"occurred_on": "2026-03-01"})
    with pytest.raises(InvalidTransition):  # found members need no more attempts
        service.log_contact_attempt(office(w["branch"]), members[0]["id"], {
            "attempted_on": "2026-02-04", "method": "phone", "outcome": "x"})
    stats = service.found_stats(office(w["county"]), {"year": 2026})["items"]
    assert sorted((s["month"], s["org_id"], s["found"]) for s in stats) == sorted([
        ("2026-02", w["branch"]["id"], 1), ("2026-02", w["county"]["id"], 1),
        ("2026-03", w["county"]["id"], 1)])
    assert service.found_stats(office(w["other_county"]), {})["items"] == []
    assert service.found_stats(office(w["county"]), {"year": 2025})["items"] == []


def test_flow_events_carry_the_orgs_after_the_change_and_an_increasing_seq(service, w, uow):
    member = register(service, w, 40)
    service.flow_step(office(w["branch"]), member["id"], "accept", {})
    service.flow_step(office(w["second"]), member["id"], "move", {"host_org_id": w["branch2"]["id"]})
    flows = [e["data"] for e in outbox(uow) if e["event_type"] in ("member_flow_accepted", "member_moved")]
    assert [(f["home_org_id"], f["host_org_id"], f["previous_host_org_id"]) for f in flows] == [
        (w["village"]["id"], w["branch"]["id"], w["branch"]["id"]),
        (w["village"]["id"], w["branch2"]["id"], w["branch"]["id"])]
    assert flows[0]["flow_seq"] < flows[1]["flow_seq"]
