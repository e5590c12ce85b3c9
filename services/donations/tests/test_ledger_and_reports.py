"""The ledger (公示) with and without a key, its CSV/XLSX export, the reconciliation command, and
totals per organiser org and per member."""
import base64
import csv
import io
import json

import pytest
from sqlalchemy import text

from services.donations import reconcile
from services.plumbing.errors import NotFound

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

PUBLIC = {"key_id": "", "role": "public", "org_id": None}
VILLAGE = {"kind": "village", "name": "王营村", "county": "淮阳区"}


@pytest.fixture
def published(service, tenancy):
    """A public campaign with every kind of entry in its ledger."""
    created = service.create_campaign(caller(BRANCH), campaign_body(
        public=True, goal="10000.00", beneficiaries=[VILLAGE]))
    cid = created["id"]
    gifts = [
        service.record_donation(caller(BRANCH), cid, {"amount": "3000.00", "member_id": MEMBER,
                                                      "public_name": "name"}, None),
        service.record_donation(caller(BRANCH), cid, {"amount": "500.00", "member_id": MEMBER},
                                None),
        service.record_donation(caller(BRANCH), cid, {"amount": "800.00", "member_id": MEMBER,
                                                      "anonymous": True}, None),
        service.record_donation(caller(BRANCH), cid, {"amount": "66.60",
                                                      "donor_name": "欧阳修远"}, None),
        service.record_donation(caller(BRANCH), cid, {"amount": "20.00"}, None),
        service.record_in_kind_donation(caller(BRANCH), cid, {
            "items": [{"name": "口罩", "unit": "箱", "quantity": "10", "valuation": "6000.00"}],
            "valued_by": "王会计", "donor_name": "常州某企业", "public_name": "name"}, None),
        service.record_donation(caller(BRANCH), cid, {"amount": "9999.00"}, None),
    ]
    service.void_donation(caller(BRANCH), cid, gifts[-1]["id"], {"reason": "多录了一笔"})
    asked = service.request_disbursement(caller(BRANCH), cid, {
        "beneficiary_id": created["beneficiaries"][0]["id"], "kind": "cash",
        "amount": "1000.00", "purpose": "慰问"})
    service.approve_disbursement(caller(BRANCH), cid, asked["id"], {"approver": "李书记"})
    service.pay_disbursement(caller(BRANCH), cid, asked["id"], {
        "acknowledgement_ref": "收条-001", "disbursed_on": "2020-02-10"})
    service.request_disbursement(caller(BRANCH), cid, {
        "beneficiary_id": created["beneficiaries"][0]["id"], "kind": "cash",
        "amount": "50.00", "purpose": "未批准的申请"})
    return created


def test_the_public_ledger_shows_donors_as_they_chose_and_no_member_ids(service, published):
    public = service.get_ledger(PUBLIC, published["id"], {})
    assert [(g["receipt_no"], g["donor"], g["amount"], g["voided"]) for g in public["gifts"]] == [
        (1, "Zhang Wei", "3000.00", False),   # chose to be named
        (2, "Z********", "500.00", False),   # masked (the default)
        (3, "匿名", "800.00", False),          # anonymous
        (4, "欧***", "66.60", False),
        (5, "匿名", "20.00", False),           # nobody named
        (6, "常州某企业", "6000.00", False),
        (7, "匿名", "9999.00", True),
    ]
    assert public["gifts"][6]["void_reason"] == "多录了一笔"
    assert public["totals"]["cash_total"] == "4386.60"
    assert public["totals"]["goods_total"] == "6000.00"
    assert public["totals"]["progress_percent"] == "103.86"
    # paid disbursements only, without ids
    assert [(d["amount"], d["acknowledgement_ref"], d["beneficiary"]) for d in
            public["disbursements"]] == [("1000.00", "收条-001", {
                "kind": "village", "name": "王营村", "county": "淮阳区"})]
    everything = json.dumps(public, ensure_ascii=False)
    # the organiser by its name (public), never by id
    assert public["campaign"]["organiser"] == f"unit {BRANCH}"
    for secret in (MEMBER, "member_id", "organiser_org_id", "欧阳修远",
                   "batch_id", "未批准的申请"):
        assert secret not in everything, secret
    assert all(set(g) == {"receipt_no", "kind", "amount", "received_on", "late", "donor",
                          "valued_by", "items", "voided", "void_reason"} for g in public["gifts"])


def test_the_ledger_with_a_key_shows_everything(service, published):
    full = service.get_ledger(caller(COMMITTEE), published["id"], {})
    assert [g["member_id"] for g in full["gifts"]][:3] == [MEMBER] * 3
    assert full["gifts"][1]["donor"] == "Zhang Wei"
    assert full["gifts"][2]["donor"] is None  # anonymous stays anonymous to everyone
    assert [d["status"] for d in full["disbursements"]] == ["paid", "requested"]
    with pytest.raises(NotFound):
        service.get_ledger(caller(ELSEWHERE), published["id"], {})


def test_ledger_gifts_come_page_by_page(service, published):
    seen, after = [], 0
    while after is not None:
        page = service.get_ledger(PUBLIC, published["id"], {"after": after, "limit": 3})
        seen += [g["receipt_no"] for g in page["gifts"]]
        after = page["next_after"]
    assert seen == list(range(1, 8))


def test_only_public_campaigns_that_are_no_drafts_are_public(service, published, tenancy):
    private = service.create_campaign(caller(BRANCH), campaign_body())
    draft = service.create_campaign(caller(BRANCH), campaign_body(public=True, draft=True))
    for campaign_id in (private["id"], draft["id"], "no-such-campaign", None):
        with pytest.raises(NotFound):
            service.get_ledger(PUBLIC, campaign_id, {})
    # the public caller has no tenant: every other call of the service is closed to it
    with pytest.raises(NotFound):
        service.get_campaign(PUBLIC, published["id"])
    assert service.list_campaigns(PUBLIC, {})["items"] == []


def test_export_csv_and_xlsx(service, published):
    exported = service.export_ledger(caller(BRANCH), published["id"], {"format": "csv"})
    assert exported["content_type"] == "text/csv; charset=utf-8"
    raw = base64.b64decode(exported["content_base64"]).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw[1:])))
    gifts = [r for r in rows if r["entry"] == "gift"]
    assert [r["amount"] for r in gifts] == ["3000.00", "500.00", "800.00", "66.60", "20.00",
                                            "6000.00", "9999.00"]
    assert gifts[2]["donor"] == "" and gifts[6]["voided"] == "yes"
    assert gifts[5]["items"] == "口罩 10.00 箱 = 6000.00"
    disbursed = [r for r in rows if r["entry"] == "disbursement"]
    assert [(r["amount"], r["status"]) for r in disbursed] == [("1000.00", "paid"),
                                                               ("50.00", "requested")]
    totals = {r["entry"]: r["amount"] for r in rows if r["entry"].startswith("cash")}
    assert totals == {"cash_total": "4386.60", "cash_voided": "9999.00",
                      "cash_disbursed": "1000.00", "cash_balance": "3386.60"}

    from openpyxl import load_workbook
    exported = service.export_ledger(caller(BRANCH), published["id"], {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(base64.b64decode(exported["content_base64"]))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("entry", "receipt_no", "date")
    assert [row[7] for row in values if row[0] == "gift"] == [
        "3000.00", "500.00", "800.00", "66.60", "20.00", "6000.00", "9999.00"]
    with pytest.raises(NotFound):
        service.export_ledger(caller(ELSEWHERE), published["id"], {"format": "csv"})


def test_reconciliation_passes_and_catches_a_tampered_balance(service, published, engine,
                                                               tmp_path, capsys):
    result = service.reconcile_campaign(caller(BRANCH), published["id"])
    assert result == {"campaign_id": published["id"], "received": "14385.60",
                      "voided": "9999.00", "disbursed": "1000.00", "balance": "3386.60",
                      "ok": True, "problems": []}
    url = str(engine.url)
    assert reconcile.main(["--database-url", url]) == 0
    assert "1 campaign(s), 0 mismatch(es)" in capsys.readouterr().out

    with engine.begin() as conn:  # somebody edits the balance behind the service's back
        conn.execute(text("UPDATE campaigns SET cash_balance = cash_balance + 0.01"))
    assert reconcile.main(["--database-url", url, "--campaign", published["id"]]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "3386.60" in out
    assert service.reconcile_campaign(caller(BRANCH), published["id"])["ok"] is False


def test_reconciliation_catches_a_receipt_gap_and_a_lost_gift(service, published, engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE donations SET receipt_no = 99 WHERE receipt_no = 4"))
    problems = service.reconcile_campaign(caller(BRANCH), published["id"])["problems"]
    assert any("receipt numbers" in p for p in problems)


def test_totals_per_organiser_org(service, published, tenancy):
    sister = service.create_campaign(caller(SISTER_BRANCH), campaign_body())
    service.record_donation(caller(SISTER_BRANCH), sister["id"], {"amount": "10.00"}, None)
    service.create_campaign(caller(ELSEWHERE), campaign_body())

    rows = service.organiser_totals(caller(COMMITTEE))["items"]
    assert [(r["organiser_org_id"], r["campaign_count"], r["cash_total"], r["goods_total"],
             r["cash_balance"]) for r in rows] == [
        (BRANCH, 1, "4386.60", "6000.00", "3386.60"), (SISTER_BRANCH, 1, "10.00", "0.00",
                                                        "10.00")]
    assert [r["organiser_org_id"] for r in service.organiser_totals(caller(BRANCH))["items"]] \
        == [BRANCH]
    assert len(service.organiser_totals(PLATFORM)["items"]) == 3


def test_totals_per_member(service, published, tenancy):
    at_home = service.create_campaign(caller(COUNTY), campaign_body(title="家乡助学"))
    service.record_donation(caller(COUNTY), at_home["id"], {"amount": "200.00",
                                                            "member_id": MEMBER}, None)
    # the branch sees its own campaign's gifts (voided ones left out), not the county's
    giving = service.member_giving(caller(BRANCH), MEMBER)
    assert (giving["cash_total"], giving["donation_count"]) == ("4300.00", 3)
    assert [c["campaign_id"] for c in giving["campaigns"]] == [published["id"]]
    everywhere = service.member_giving(PLATFORM, MEMBER)
    assert everywhere["cash_total"] == "4500.00"
    with pytest.raises(NotFound):
        service.member_giving(caller(BRANCH), STRANGER)
    with pytest.raises(NotFound):
        service.member_giving(PUBLIC, MEMBER)
