"""The donations service's money rules where the database matters, on PostgreSQL and SQLite:
concurrent approvals that would overdraw (exactly one wins), receipt numbers under concurrent
gifts and batches (unique, no gaps), and sums exact to the fen against PostgreSQL's own SUM.

The service's entrypoints run as nameko workers (worker_factory) on a real migrated database,
one worker and one database session per green thread, as the service's worker pool runs them;
eventlet greens psycopg2, so the transactions really overlap on PostgreSQL."""
import json
import random
import subprocess
import sys
from decimal import Decimal

import eventlet
import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from services.donations.reconcile import reconcile_all
from services.donations.tests.conftest import (
    BRANCH,
    COMMITTEE,
    caller,
    workers_on,
)
from services.donations.tests.test_gifts import SEED_GIFTS
from services.donations.tests.test_goods_batches_voids import SEED_GOODS
from services.plumbing.db import is_postgresql, make_engine
from services.plumbing.errors import Conflict

pytestmark = pytest.mark.integration

VILLAGE = {"kind": "village", "name": "王营村", "county": "淮阳区"}


@pytest.fixture
def engine(databases):
    engine = make_engine(databases.url("donations"))
    yield engine
    engine.dispose()


@pytest.fixture
def worker(engine):
    return workers_on(engine)


@pytest.fixture
def campaign(worker):
    return worker().create_campaign(caller(BRANCH), {
        "title": "抗击疫情", "purpose": "pandemic_relief", "opens_on": "2020-01-28",
        "closes_on": "2099-12-31", "beneficiaries": [VILLAGE]})


def in_parallel(work, arguments):
    """Runs work(arg) for every arg in green threads started together; returns the results
    (or the exceptions) in order."""
    def attempt(arg):
        try:
            return work(arg)
        except Exception as exc:  # noqa: BLE001 - the caller inspects it
            return exc
    pool = eventlet.GreenPool(len(arguments))
    return list(pool.imap(attempt, arguments))


def ledger_ok(engine):
    with sessionmaker(engine)() as session:
        results = reconcile_all(session)
    assert all(result.ok for result in results), [r.line() for r in results]


def test_concurrent_approvals_that_would_overdraw_exactly_one_wins(worker, engine, campaign):
    cid = campaign["id"]
    worker().record_donation(caller(BRANCH), cid, {"amount": "1000.00"}, None)
    requests = [worker().request_disbursement(caller(BRANCH), cid, {
        "beneficiary_id": campaign["beneficiaries"][0]["id"], "kind": "cash",
        "amount": "700.00", "purpose": f"第{i}笔"}) for i in range(8)]

    outcomes = in_parallel(lambda d: worker().approve_disbursement(
        caller(COMMITTEE if d["purpose"].endswith("1笔") else BRANCH), cid, d["id"],
        {"approver": "李书记"}), requests)

    approved = [o for o in outcomes if isinstance(o, dict)]
    assert len(approved) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, dict)), outcomes
    totals = worker().get_campaign(caller(BRANCH), cid)
    assert (totals["cash_reserved"], totals["cash_balance"]) == ("700.00", "1000.00")

    # Paying it and voiding the gift at once: the void must not take the paid-out money.
    outcomes = in_parallel(lambda step: step(), [
        lambda: worker().pay_disbursement(caller(BRANCH), cid, approved[0]["id"], {
            "acknowledgement_ref": "收条-1", "disbursed_on": "2020-02-10"}),
        lambda: worker().void_donation(caller(BRANCH), cid, worker().get_ledger(
            caller(BRANCH), cid, {})["gifts"][0]["id"], {"reason": "wrong"}),
    ])
    assert isinstance(outcomes[0], dict) and isinstance(outcomes[1], Conflict), outcomes
    assert worker().get_campaign(caller(BRANCH), cid)["cash_balance"] == "300.00"
    ledger_ok(engine)


def test_concurrent_goods_approvals_never_hand_out_more_than_came_in(worker, engine, campaign):
    cid = campaign["id"]
    worker().record_in_kind_donation(caller(BRANCH), cid, {
        "items": [{"name": "口罩", "unit": "箱", "quantity": "10", "valuation": "6000.00"}],
        "valued_by": "王会计"}, None)
    requests = [worker().request_disbursement(caller(BRANCH), cid, {
        "beneficiary_id": campaign["beneficiaries"][0]["id"], "kind": "goods",
        "items": [{"name": "口罩", "unit": "箱", "quantity": "4"}], "purpose": "防疫"})
        for _ in range(6)]
    outcomes = in_parallel(lambda d: worker().approve_disbursement(
        caller(BRANCH), cid, d["id"], {"approver": "李书记"}), requests)
    assert sum(isinstance(o, dict) for o in outcomes) == 2, outcomes  # 4 + 4 of 10
    ledger = worker().get_ledger(caller(BRANCH), cid, {})
    assert ledger["goods"][0]["left"] == "2.00"
    ledger_ok(engine)


def test_receipt_numbers_stay_unique_and_gapless_under_concurrent_gifts(worker, engine,
                                                                       campaign):
    cid = campaign["id"]

    def desk(index):
        service = worker()
        numbers = []
        for n in range(6):
            if n == 3:
                batch = service.record_donation_batch(caller(BRANCH), cid, {
                    "reference": f"名单{index}", "declared_count": 2, "declared_total": "3.00",
                    "gifts": [{"amount": "1.00"}, {"amount": "2.00"}]}, None)
                numbers += [g["receipt_no"] for g in batch["gifts"]]
            elif n == 4:
                numbers.append(service.record_in_kind_donation(caller(BRANCH), cid, {
                    "items": [{"name": "大米", "unit": "袋", "quantity": "1",
                               "valuation": "50.00"}], "valued_by": "王"}, None)["receipt_no"])
            else:
                numbers.append(service.record_donation(caller(COMMITTEE), cid, {
                    "amount": "0.10"}, f"desk-{index}-{n}")["receipt_no"])
        return numbers

    results = in_parallel(desk, list(range(8)))
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(n for numbers in results for n in numbers)
    assert numbers == list(range(1, 8 * 7 + 1))
    totals = worker().get_campaign(caller(BRANCH), cid)
    # 8 desks × (4 × 0.10 + 3.00) in cash, 8 × 50.00 in goods
    assert (totals["cash_total"], totals["goods_total"]) == ("27.20", "400.00")
    ledger_ok(engine)


def test_the_seed_totals_are_reproduced_exactly(worker, engine, campaign):
    cid = campaign["id"]
    service = worker()
    for amount in SEED_GIFTS:
        service.record_donation(caller(BRANCH), cid, {"amount": amount}, None)
    service.record_in_kind_donation(caller(BRANCH), cid, {"items": SEED_GOODS,
                                                          "valued_by": "王会计"}, None)
    totals = service.get_campaign(caller(BRANCH), cid)
    assert (totals["cash_total"], totals["goods_total"]) == ("490982.52", "708000.00")
    with engine.connect() as conn:
        by_kind = dict(conn.execute(text(
            "SELECT kind, SUM(amount) FROM donations GROUP BY kind")).all())
    if is_postgresql(engine):
        assert by_kind == {"cash": Decimal("490982.52"), "in_kind": Decimal("708000.00")}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_many_random_gifts_sum_to_postgresqls_sum_to_the_fen(worker, engine, campaign):
    cid = campaign["id"]
    rng = random.Random(5)
    service = worker()
    amounts = [Decimal(rng.randint(1, 99_999_999)).scaleb(-2) for _ in range(1200)]
    for start in range(0, len(amounts), 400):  # paper lists of 400
        chunk = amounts[start:start + 400]
        service.record_donation_batch(caller(BRANCH), cid, {
            "reference": f"list {start}", "declared_count": len(chunk),
            "declared_total": format(sum(chunk), "f"),
            "gifts": [{"amount": format(a, "f")} for a in chunk]}, None)
    for amount in ("0.01", "0.29", "0.57", "1.15", "9999999.99"):
        amounts.append(Decimal(amount))
        service.record_donation(caller(BRANCH), cid, {"amount": amount}, None)
    # void a few: both sides must leave them out
    ledger = service.get_ledger(caller(BRANCH), cid, {"limit": 1000})
    for gift in ledger["gifts"][:7]:
        service.void_donation(caller(BRANCH), cid, gift["id"], {"reason": "test"})
        amounts.remove(Decimal(gift["amount"]))

    totals = service.get_campaign(caller(BRANCH), cid)
    with engine.connect() as conn:
        pg_sum = conn.execute(text("SELECT SUM(amount) FROM donations WHERE campaign_id = :c "
                                   "AND voided_at IS NULL"), {"c": cid}).scalar()
    assert isinstance(pg_sum, Decimal)
    assert totals["cash_total"] == format(pg_sum, "f") == format(sum(amounts), "f")
    assert totals["donation_count"] == len(amounts)
    ledger_ok(engine)


def test_two_replicas_closing_at_once_emit_campaign_closed_once(worker, engine, databases):
    service = worker()
    due = [service.create_campaign(caller(BRANCH), {
        "title": f"过期{i}", "purpose": "other", "opens_on": "2020-01-01",
        "closes_on": "2099-02-01"})["id"] for i in range(5)]
    # their last day passes while they are open (one created already past it closes at once)
    with engine.begin() as conn:
        conn.execute(text("UPDATE campaigns SET closes_on = '2020-02-01'"))

    closed = in_parallel(lambda _: worker().close_due_campaigns(), list(range(4)))
    assert not [c for c in closed if isinstance(c, Exception)], closed
    assert sorted(cid for batch in closed for cid in batch) == sorted(due)
    with engine.connect() as conn:
        events = conn.execute(text("SELECT envelope FROM outbox WHERE event_type = "
                                   "'campaign_closed'")).scalars().all()
    envelopes = [e if isinstance(e, dict) else json.loads(e) for e in events]
    assert sorted(e["data"]["campaign_id"] for e in envelopes) == sorted(due)


def test_the_reconciliation_command_exits_non_zero_on_a_mismatch(worker, engine, databases,
                                                                  campaign):
    worker().record_donation(caller(BRANCH), campaign["id"], {"amount": "88.88"}, None)
    command = [sys.executable, "-m", "services.donations.reconcile", "--database-url",
               databases.url("donations")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "balance 88.88: ok" in done.stdout
    with engine.begin() as conn:  # a gift lost behind the service's back
        conn.execute(text("DELETE FROM outbox"))
        conn.execute(text("DELETE FROM donations"))
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MISMATCH" in done.stdout and "1 mismatch(es)" in done.stdout
