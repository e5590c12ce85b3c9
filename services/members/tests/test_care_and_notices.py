"""Care, returning talent and notices: a letter from home to 5,000 members delivered by its
event in one statement, read status and the unread summary (worker_factory on SQLite)."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from services.members.models import Member, NoticeDelivery
from services.plumbing.errors import InvalidTransition, NotFound, ValidationFailed

from .world import id_number, office, received, register


def test_elderly_as_of_a_date_visits_help_and_honours(service, w):
    old = register(service, w, 1, name="老党员", id_number=id_number(1, "19660301"))
    register(service, w, 2, name="年轻人", id_number=id_number(2, "19900101"))
    county = office(w["county"])
    def names(as_of):
        return [m["name"] for m in service.list_elderly(county, {"as_of": as_of})["items"]]
    assert names("2026-03-01") == ["老党员"]
    assert names("2026-02-28") == []
    assert service.list_elderly(office(w["other_county"]), {"as_of": "2026-03-01"})["items"] == []
    visit = service.log_care_visit(office(w["branch"]), old["id"], {"visited_on": "2026-02-01",
                                                                      "notes": "春节慰问，送报纸"})
    assert visit["org_id"] == w["branch"]["id"]
    assert len(service.list_care_visits(county, old["id"])["items"]) == 1
    service.grant_hardship_help(county, old["id"], {"kind": "living", "amount": "1000.10",
                                                    "granted_on": "2026-01-20"})
    service.grant_hardship_help(county, old["id"], {"kind": "family", "amount": "0.20",
                                                    "granted_on": "2026-02-20"})
    helped = service.list_hardship_help(office(w["branch"]), old["id"])
    assert helped["total"] == "1000.30" and helped["items"][0]["amount"] == "1000.10"
    for bad in ("12.345", 12.5, "-1.00", "0.00"):
        with pytest.raises(ValidationFailed) as error:
            service.grant_hardship_help(county, old["id"], {"kind": "living", "amount": bad,
                                                            "granted_on": "2026-01-20"})
        assert "amount" in error.value.fields
    service.award_honour(county, {"member_id": old["id"], "title": "优秀共产党员", "awarded_on": "2026-07-01"})
    service.award_honour(office(w["committee"]), {"org_id": w["branch"]["id"], "title": "先进集体",
                                                  "awarded_on": "2026-07-01"})
    assert [h["title"] for h in service.list_honours(county, {"member_id": old["id"]})["items"]] == ["优秀共产党员"]
    honours = service.list_honours(office(w["branch"]), {"org_id": w["branch"]["id"]})["items"]
    assert [h["title"] for h in honours] == ["先进集体"]
    with pytest.raises(ValidationFailed):
        service.award_honour(county, {"org_id": w["branch"]["id"], "title": "x", "awarded_on": "2026-07-01"})
    with pytest.raises(ValidationFailed):
        service.award_honour(county, {"member_id": old["id"], "org_id": w["county"]["id"],
                                      "title": "x", "awarded_on": "2026-07-01"})


def test_returning_talent_report_per_county(service, w):
    county = office(w["county"])
    members = [register(service, w, 10 + i) for i in range(4)]
    with pytest.raises(InvalidTransition):  # not returned yet
        service.record_talent_return(county, members[0]["id"], {"kind": "village_cadre",
                                                                "returned_on": "2026-03-01"})
    for member, kind in zip(members, ["business_founder", "village_cadre", "village_cadre",
                                      "branch_secretary"], strict=False):
        service.flow_step(county, member["id"], "return_home", {})
        service.record_talent_return(county, member["id"], {"kind": kind, "returned_on": "2026-03-01"})
    report = service.talent_report(county, {})
    assert report["counts"] == {"business_founder": 1, "village_cadre": 2, "branch_secretary": 1}
    assert service.talent_report(county, {"year": "2025"})["counts"] == {}
    assert service.talent_report(office(w["other_county"]), {})["counts"] == {}
    with pytest.raises(NotFound):
        service.talent_report(office(w["other_county"]), {"org_id": w["county"]["id"]})


def bulk_members(uow, w, count, status="active"):
    """Members written straight to the table (the registry path is tested elsewhere)."""
    now = datetime.now(UTC)
    rows = [{"id": str(uuid.uuid4()), "name": f"党员{i}", "id_number_hash": f"h{i:08d}",
             "id_number_encrypted": "x", "id_number_masked": "x", "phone": "13800001234",
             "home_org_id": w["village"]["id"],
             "host_org_id": w["branch"]["id"] if i % 2 else w["branch2"]["id"],
             "status": status, "giving_total": 0, "created_at": now + timedelta(microseconds=i)}
            for i in range(count)]
    with uow.transaction() as tx:
        tx.session.execute(insert(Member), rows)
    return rows


def test_letter_from_home_to_5000_members(service, w, uow):
    rows = bulk_members(uow, w, 5000)
    register(service, w, 99, host_org_id=None)  # at home: not a mobile member
    register(service, w, 98, home_org_id=w["other_township"]["id"], caller=office(w["other_county"]))
    county = office(w["county"])
    notice = service.publish_notice(county, {"org_id": w["county"]["id"], "title": "家乡来信",
                                             "body": "致全县流动党员的一封信"})
    assert notice["delivered_count"] == 0  # delivered by the event, not by the request
    event = received(uow, "notice_published", "on_notice_published", notice_id=notice["id"])
    service.on_notice_published(event)
    service.on_notice_published(event)  # redelivered: nothing doubles
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(NoticeDelivery)) == 5000
    with uow.transaction() as tx:  # 1,200 members read it (mark_notice_read is exercised below)
        tx.session.execute(NoticeDelivery.__table__.update()
                           .where(NoticeDelivery.member_id.in_([r["id"] for r in rows[:1200]]))
                           .values(read_at=datetime.now(UTC)))
    read = service.mark_notice_read(county, notice["id"], {"member_id": rows[1200]["id"]})
    assert read["read_at"] is not None
    again = service.mark_notice_read(county, notice["id"], {"member_id": rows[1200]["id"]})
    assert again["read_at"] == read["read_at"]
    summary = service.get_notice(county, notice["id"])
    assert (summary["delivered_count"], summary["read_count"], summary["unread_count"]) == (5000, 1201, 3799)
    assert sum(summary["unread_by_host_org"].values()) == 3799
    assert set(summary["unread_by_host_org"]) == {w["branch"]["id"], w["branch2"]["id"]}
    unread, cursor, pages = [], None, 0
    while True:
        page = service.list_notice_deliveries(county, notice["id"], {"limit": "500", "cursor": cursor})
        unread += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(unread) == 3799 and len({u["member_id"] for u in unread}) == 3799 and pages == 8
    with pytest.raises(NotFound):
        service.get_notice(office(w["other_county"]), notice["id"])
    with pytest.raises(ValidationFailed):  # the other county's member got no letter
        other = service.list_members(office(w["other_county"]), {})["items"][0]
        service.mark_notice_read(county, notice["id"], {"member_id": other["id"]})
