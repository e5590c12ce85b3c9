"""The members ledger through the gateway on real RabbitMQ and real databases: the tenancy
matrix over every member-scoped route (home side and host side see, the other county and
committee get 404, other roles 403), the flow lifecycle with one event per change, bulk import
with progress, and a letter from home to 5,000 members delivered by its event."""
import base64
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from gateway.routes import members as member_routes
from tests.fixtures import wait_for

from .helpers import build_world, id_number, register_member

pytestmark = pytest.mark.integration


@pytest.fixture
def world(platform):
    platform.start("members")
    return build_world(platform)


def callers(world):
    a, b = world["a"], world["b"]
    return {"home office": (a["office"], "office", True),
            "host committee": (a["host_office"], "office", True),
            "host branch": (a["branch_office"], "office", True),
            "host desk": (a["desk"], "desk_staff", True),
            "other county": (b["office"], "office", False),
            "other committee": (b["host_office"], "office", False),
            "other desk": (b["desk"], "desk_staff", False)}


def test_tenancy_matrix_over_every_member_route(platform, world):
    a = world["a"]
    member = register_member(a, 1)
    status, _ = a["branch_office"].post(f"/api/v1/members/{member['id']}/accept")
    assert status == 200
    routes = [r for r in member_routes.ROUTES if r.method == "GET" and "<member_id>" in r.path]
    assert len(routes) >= 8
    for route in routes:
        path = route.path.replace("<member_id>", member["id"])
        for label, (http, role, same_side) in callers(world).items():
            status, body = http.get(path)
            if role not in route.roles:
                expected = 403
            elif route.name == "reveal_id_number" and same_side and label != "home office":
                expected = 403  # only the home side sees the full number
            else:
                expected = 200 if same_side else 404
            assert status == expected, (route.name, label, status, body)
    # writes from the other side: 404 and nothing written
    b = world["b"]
    before = platform.scalar("members", "SELECT count(*) FROM outbox")
    for path, body in [(f"/api/v1/members/{member['id']}/move", {"host_org_id": world["b"]["branch"]}),
                       (f"/api/v1/members/{member['id']}/lose-contact", {}),
                       (f"/api/v1/members/{member['id']}/return-home", {}),
                       (f"/api/v1/members/{member['id']}/care-visits",
                        {"visited_on": "2026-01-01", "notes": "x"}),
                       (f"/api/v1/members/{member['id']}/points",
                        {"points": 5, "reason": "x", "earned_on": "2026-01-01"})]:
        status, reply = b["office"].post(path, body)
        assert status == 404, (path, reply)
    status, _ = b["office"].request("PATCH", f"/api/v1/members/{member['id']}", {"notes": "x"})
    assert status == 404
    assert platform.scalar("members", "SELECT count(*) FROM outbox") == before
    # org-unit routes: the subtree with counts, move and close for admins only
    status, subtree = a["host_office"].get(f"/api/v1/org-units/{a['committee']}/subtree")
    assert status == 200 and subtree["items"][0]["subtree_host_members"] == 1
    assert b["host_office"].get(f"/api/v1/org-units/{a['committee']}/subtree")[0] == 404
    assert a["office"].post(f"/api/v1/org-units/{a['branch']}/close")[0] == 403
    status, body = world["admin"].post(f"/api/v1/org-units/{a['branch']}/close")
    assert status == 409 and body["error"]["code"] == "conflict"


def test_lifecycle_over_http_one_event_per_change(platform, world):
    a = world["a"]
    member = register_member(a, 2, host_org_id=None)
    member_id = member["id"]
    steps = [(a["office"], "flow-out", {"host_org_id": a["branch"]}, "pending"),
             (a["branch_office"], "accept", None, "active"),
             (a["branch_office"], "lose-contact", {"occurred_on": "2026-01-02", "reason": "停机"}, "lost"),
             (a["office"], "found", {"reason": "亲属联系"}, "active"),
             (a["office"], "return-home", None, "returned")]
    for http, step, body, status_after in steps:
        status, reply = http.post(f"/api/v1/members/{member_id}/{step}", body)
        assert status == 200 and reply["status"] == status_after, (step, reply)
    status, body = a["branch_office"].post(f"/api/v1/members/{member_id}/accept")
    assert status == 404  # returned: the branch no longer sees the member
    status, body = a["office"].post(f"/api/v1/members/{member_id}/accept")
    assert status == 409 and body["error"]["code"] == "invalid_transition"
    status, body = a["office"].post(f"/api/v1/members/{member_id}/flow-out", {"host_org_id": "x" * 40})
    assert status == 400 and "host_org_id" in body["error"]["fields"]
    status, history = a["office"].get(f"/api/v1/members/{member_id}/history")
    assert [h["action"] for h in history["items"]] == [
        "registered", "flow_out", "accept", "lose_contact", "found", "return_home"]
    counts = {t: platform.scalar("members", "SELECT count(*) FROM outbox WHERE event_type = :t", t=t)
              for t in ("member_flowed_out", "member_flow_accepted", "member_lost_contact",
                        "member_found", "member_returned", "member_registered")}
    assert set(counts.values()) == {1}
    status, report = a["office"].get("/api/v1/reports/flows")
    by_month = {row["month"]: row for row in report["items"]}
    assert status == 200 and by_month["2026-01"]["lost_contact"] == 1
    assert sum(row["flowed_out"] for row in report["items"]) == 1


def import_csv(world, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "id_number", "phone", "home_org_id", "host_org_id"])
    writer.writerows(rows)
    return {"format": "csv", "content_base64": base64.b64encode(buffer.getvalue().encode()).decode()}


def test_bulk_import_in_the_background_with_progress_and_reimport(platform, world):
    a = world["a"]
    rows = [[f"导入{i}", id_number(100 + i), "13800001234", a["township"], a["branch"]]
            for i in range(600)]
    rows[10][1] = rows[10][1][:-1] + ("0" if rows[10][1][-1] != "0" else "1")
    body = import_csv(world, rows)
    status, batch = a["office"].post("/api/v1/member-imports", body)
    assert status == 202, batch
    done = wait_for(lambda: (lambda r: r[1] if r[1]["status"] == "done" else None)(
        a["office"].get(f"/api/v1/member-imports/{batch['id']}")), timeout=60,
        message="the import to finish")
    assert (done["imported"], done["duplicates"], done["processed_rows"]) == (599, 0, 600)
    assert done["errors"] == [{"row": 12, "fields": {"id_number": ["check digit does not match"]}}]
    assert world["b"]["office"].get(f"/api/v1/member-imports/{batch['id']}")[0] == 404
    status, again = a["office"].post("/api/v1/member-imports", body)
    again = wait_for(lambda: (lambda r: r[1] if r[1]["status"] == "done" else None)(
        a["office"].get(f"/api/v1/member-imports/{again['id']}")), timeout=60)
    assert (again["imported"], again["duplicates"]) == (0, 599)
    assert platform.scalar("members", "SELECT count(*) FROM members") == 599
    response = a["office"].client.get("/api/v1/member-ledger.csv", query_string={"name": "导入1"},
                                      headers={"Authorization": f"Bearer {a['office'].key}"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert len(lines) - 1 == 110  # 导入1, 导入11-19 (10 was bad), 导入100-199
    response = world["b"]["office"].client.get(
        "/api/v1/member-ledger.xlsx", headers={"Authorization": f"Bearer {world['b']['office'].key}"})
    assert response.status_code == 200 and response.get_data()[:2] == b"PK"  # a workbook, empty


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_letter_from_home_to_5000_members(platform, world):
    a = world["a"]
    now = datetime.now(UTC)
    engine = platform.engine("members")
    with engine.begin() as conn:  # 5,000 mobile members straight into the table
        conn.execute(text(
            "INSERT INTO members (id, name, id_number_hash, id_number_encrypted, id_number_masked,"
            " phone, home_org_id, host_org_id, status, giving_total, created_at) VALUES "
            "(:id, :name, :hash, 'x', 'x', '13800001234', :home, :host, 'active', 0, :created)"),
            [{"id": str(uuid.uuid4()), "name": f"党员{i}", "hash": f"h{i}", "home": a["township"],
              "host": a["branch"], "created": now + timedelta(microseconds=i)} for i in range(5000)])
    engine.dispose()
    status, notice = a["office"].post("/api/v1/notices", {
        "org_id": a["county"], "title": "家乡来信", "body": "致全县流动党员的一封信"})
    assert status == 201, notice
    delivered = wait_for(lambda: (lambda r: r[1] if r[1]["delivered_count"] else None)(
        a["office"].get(f"/api/v1/notices/{notice['id']}")), timeout=60,
        message="the notice to be delivered")
    assert (delivered["delivered_count"], delivered["unread_count"]) == (5000, 5000)
    status, page = a["office"].get(f"/api/v1/notices/{notice['id']}/deliveries", query={"limit": 2})
    first = page["items"][0]["member_id"]
    status, read = a["office"].post(f"/api/v1/notices/{notice['id']}/read", {"member_id": first})
    assert status == 200 and read["read_at"]
    status, summary = a["office"].get(f"/api/v1/notices/{notice['id']}")
    assert (summary["read_count"], summary["unread_count"]) == (1, 4999)
    assert summary["unread_by_host_org"] == {a["branch"]: 4999}
    assert world["b"]["office"].get(f"/api/v1/notices/{notice['id']}")[0] == 404
    assert platform.scalar("members", "SELECT count(*) FROM outbox WHERE event_type = 'notice_published'") == 1


def test_self_report_then_points_earned_at_the_host_are_seen_at_home(platform, world):
    a, b = world["a"], world["b"]
    status, report = a["desk"].post("/api/v1/self-reports", {
        "name": "西木拉", "id_number": id_number(300), "phone": "13900001111",
        "home_org_id": a["township"], "host_org_id": a["branch"]})
    assert status == 201, report
    status, queue = a["host_office"].get("/api/v1/self-reports")
    assert [r["id"] for r in queue["items"]] == [report["id"]]
    assert b["host_office"].get("/api/v1/self-reports")[1]["items"] == []
    assert b["host_office"].post(f"/api/v1/self-reports/{report['id']}/accept")[0] == 404
    status, accepted = a["branch_office"].post(f"/api/v1/self-reports/{report['id']}/accept")
    assert status == 200 and accepted["status"] == "accepted", accepted
    member_id = accepted["member_id"]
    status, rule = a["office"].request("PUT", "/api/v1/point-rules", {
        "county_org_id": a["county"], "activity_kind": "themed_party_day", "points": 5})
    assert status == 200, rule
    status, activity = a["branch_office"].post("/api/v1/activities", {
        "org_id": a["branch"], "kind": "themed_party_day", "title": "主题党日", "held_on": "2026-07-01"})
    assert status == 201, activity
    status, attended = a["branch_office"].post(f"/api/v1/activities/{activity['id']}/attendance",
                                               {"member_id": member_id})
    assert status == 200 and attended["points_awarded"] == 5, attended
    status, ledger = a["office"].get(f"/api/v1/members/{member_id}/points")
    assert status == 200 and ledger["total"] == 5
    assert ledger["items"][0]["earned_at_org_id"] == a["branch"]
    status, ranking = a["office"].get("/api/v1/reports/points-ranking", query={"year": 2026, "month": 7})
    assert [(r["member_id"], r["points"]) for r in ranking["items"]] == [(member_id, 5)]
    assert b["office"].get(f"/api/v1/members/{member_id}/points")[0] == 404
    status, tally = a["host_office"].get("/api/v1/reports/activities", query={"year": 2026})
    assert tally["totals"] == {"themed_party_day": 1}
