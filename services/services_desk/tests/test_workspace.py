"""The staff console's workspace: queues with their counts, paging, sorting, filters and search
in the database, time left in working days, and a request with display names and rules."""
import pytest

from services.plumbing.errors import ValidationFailed

from .conftest import CENTRE_A, LEAD_A, STAFF_A1, STAFF_A2, STAFF_B, TIBETAN_A, beijing


def submit(service, caller, name, category="social_insurance", language="zh",
           phone="13800001234"):
    return service.submit_request(caller, {"requester_name": name, "requester_phone": phone,
                                           "category": category, "language": language,
                                           "description": "代办"})


def names(page):
    return [row["requester_name"] for row in page["items"]]


def test_queues_count_and_hold_what_their_names_say(staffed, clock):
    todo_zh = submit(staffed, STAFF_A1, "王五")
    tibetan = submit(staffed, STAFF_A1, "བཀྲ་ཤིས་", language="bo")
    mine = submit(staffed, STAFF_A1, "李明")
    staffed.claim_request(STAFF_A1, mine["id"])
    waiting = submit(staffed, STAFF_A1, "赵六")
    staffed.claim_request(STAFF_A2, waiting["id"])
    staffed.request_materials(STAFF_A2, waiting["id"], {"missing": ["社保卡"]})
    done = submit(staffed, STAFF_A1, "钱七", category="policy_consultation")
    staffed.claim_request(STAFF_A1, done["id"])
    staffed.complete_request(STAFF_A1, done["id"], {"outcome": "已答复"})
    submit(staffed, STAFF_B, "别的中心")

    page = staffed.console_queue(STAFF_A1, {})
    assert page["counts"] == {"todo": 2, "mine": 1, "due": 0, "materials": 1, "forwarded": 0,
                              "done": 1, "all": 5}
    assert set(names(page)) == {"王五", "བཀྲ་ཤིས་"}
    # the Tibetan speaker sees Tibetan requests first in 待办
    assert names(staffed.console_queue(TIBETAN_A, {}))[0] == "བཀྲ་ཤིས་"
    assert names(staffed.console_queue(STAFF_A1, {"queue": "mine"})) == ["李明"]
    assert names(staffed.console_queue(STAFF_A2, {"queue": "materials"})) == ["赵六"]
    row = staffed.console_queue(STAFF_A2, {"queue": "materials"})["items"][0]
    assert row["time_state"] == "stopped" and row["deadline"] is None
    assert names(staffed.console_queue(STAFF_A1, {"queue": "done"})) == ["钱七"]
    # 首问 owner and assignee by display name, the requester's phone masked
    [claimed] = staffed.console_queue(STAFF_A1, {"queue": "mine"})["items"]
    assert claimed["first_owner_name"] == "key-a1" and claimed["requester_phone"] != "13800001234"
    assert todo_zh["id"] and tibetan["id"]


def test_time_left_in_working_days_and_the_due_queue(staffed, clock):
    # received Tuesday 29 September 2026; 10 working days run past the National Day holiday
    request = submit(staffed, STAFF_A1, "王五")
    [row] = staffed.console_queue(STAFF_A1, {})["items"]
    assert row["deadline"] == "2026-10-19" and row["time_state"] == "on_track"
    assert row["working_days_left"] == 10
    assert staffed.console_queue(STAFF_A1, {"queue": "due"})["total"] == 0
    clock.set(beijing(2026, 10, 16))  # Friday: Monday the 19th is the last working day
    [row] = staffed.console_queue(STAFF_A1, {"queue": "due"})["items"]
    assert (row["time_state"], row["working_days_left"]) == ("warning", 1)
    clock.set(beijing(2026, 10, 21))
    [row] = staffed.console_queue(STAFF_A1, {"queue": "due"})["items"]
    assert (row["time_state"], row["days_overdue"]) == ("overdue", 2)
    assert row["id"] == request["id"]


def test_paging_sorting_filters_and_search(staffed, clock):
    for n in range(23):
        clock.advance(minutes=1)
        submit(staffed, STAFF_A1, f"申请人{n:02d}", phone=f"139000000{n:02d}",
               category="pension" if n % 2 else "job_help")
    first = staffed.console_queue(STAFF_A1, {"per_page": 10})
    assert (first["total"], first["pages"], len(first["items"])) == (23, 3, 10)
    last = staffed.console_queue(STAFF_A1, {"per_page": 10, "page": 3, "sort": "oldest"})
    assert names(last)[-1] == "申请人22"
    assert names(staffed.console_queue(STAFF_A1, {"sort": "newest"}))[0] == "申请人22"
    # nearest deadline first: job_help (5 days) before pension (15 days)
    by_deadline = staffed.console_queue(STAFF_A1, {"per_page": 100})["items"]
    assert [r["deadline"] for r in by_deadline] == sorted(r["deadline"] for r in by_deadline)
    assert staffed.console_queue(STAFF_A1, {"category": "pension"})["total"] == 11
    assert names(staffed.console_queue(STAFF_A1, {"q": "申请人07"})) == ["申请人07"]
    assert names(staffed.console_queue(STAFF_A1, {"q": "0015"})) == ["申请人15"]
    some = by_deadline[0]
    assert names(staffed.console_queue(STAFF_A1, {"q": some["id"][:8]})) == [
        some["requester_name"]]
    assert staffed.console_queue(STAFF_A1, {"q": "%"})["total"] == 0  # no wildcard
    assert staffed.console_queue(STAFF_A1, {"received_from": "2026-09-30"})["total"] == 0
    with pytest.raises(ValidationFailed):
        staffed.console_queue(STAFF_A1, {"queue": "everything"})


def test_a_request_with_names_rules_and_what_the_viewer_may_do(staffed, clock):
    request = submit(staffed, STAFF_A1, "བཀྲ་ཤིས་", language="bo")
    staffed.claim_request(TIBETAN_A, request["id"])
    staffed.extend_deadline(LEAD_A, request["id"], {"extra_working_days": 3, "reason": "补证"})
    item = staffed.console_request(STAFF_A1, request["id"])
    assert [s["step"] for s in item["steps"]] == ["submitted", "claimed", "extended"]
    assert [s["actor_name"] for s in item["steps"]] == ["key-a1", "key-bo-a", "组长"]
    assert item["rule"]["materials"] == ["身份证", "社保卡", "参保证明"]
    assert item["category_name"] == "社保" and item["centre_name"] == "unit"
    assert item["viewer"] == {"key_id": "key-a1", "name": "key-a1", "is_lead": False,
                              "may_act": False}
    assert staffed.console_request(LEAD_A, request["id"])["viewer"]["is_lead"] is True
    assert {m["name"] for m in item["staff"]} == {"组长", "key-a1", "key-a2", "key-bo-a"}
    assert CENTRE_A == item["centre_org_id"]
