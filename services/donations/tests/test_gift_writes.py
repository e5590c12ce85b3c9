"""A single gift's writes on both databases (migrated by the service's own migrations): the
campaign's row lock is taken by the UPDATE that issues the receipt number, after everything
else, and held only for the gift's own rows; an Idempotency-Key is claimed first, so a retry
arriving while its first attempt runs waits for it and gets its gift back; a close or settle
that holds the lock decides the gift as it would have before."""
import random
from decimal import Decimal

import eventlet
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import sessionmaker

from services.donations.models import TENANCY, Campaign, Donation
from services.donations.reconcile import reconcile_all
from services.plumbing.db import Transaction, make_engine
from services.plumbing.errors import Conflict, InvalidTransition

from .conftest import (
    BRANCH,
    COMMITTEE,
    MEMBER,
    caller,
    campaign_body,
    workers_on,
)


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
    return worker().create_campaign(caller(BRANCH), campaign_body())


def give(worker, campaign, amount="12.34", key=None, who=COMMITTEE, **body):
    return worker().record_donation(caller(who), campaign["id"], {"amount": amount, **body}, key)


def statements_of(engine, work) -> list[str]:
    """The statements `work()` sends, as "VERB table" (SQLite's BEGIN IMMEDIATE left out);
    those sent to PostgreSQL as one message (together.write_each) joined by " + ", which
    SQLite is sent one by one."""
    sent = []

    def note(_conn, _cursor, sql, *_args):
        verbs = []
        for statement in sql.split(";\n"):
            words = statement.replace('"', "").split()
            if words[0].upper() != "BEGIN":
                table = words[words.index("INTO") + 1] if words[0] == "INSERT" else (
                    words[1] if words[0] == "UPDATE" else words[words.index("FROM") + 1])
                verbs.append(f"{words[0]} {table}")
        if verbs:
            sent.append(" + ".join(verbs))
    event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return sent


def as_sent(engine, statements: list[str]) -> list[str]:
    """The expected statements as `engine`'s database is sent them (one message or one by one)."""
    if engine.dialect.name == "postgresql":
        return statements
    return [part for statement in statements for part in statement.split(" + ")]


def gift_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(Donation.receipt_no, Donation.amount).order_by(Donation.receipt_no))]


def test_the_campaign_lock_is_taken_last_and_held_for_the_gifts_own_rows(worker, engine,
                                                                          campaign):
    # The key and the caller's subtree before the lock. Under it, the receipt number, then the
    # gift, its key's note of it and its event in one message.
    TENANCY.forget_paths()  # (the subtree's path is remembered for a moment once read)
    assert statements_of(engine, lambda: give(worker, campaign, key="k-1")) == as_sent(engine, [
        "INSERT donation_request_keys", "SELECT org_units_projection", "UPDATE campaigns",
        "INSERT donations + UPDATE donation_request_keys + INSERT outbox"])
    assert statements_of(engine, lambda: worker().record_donation(
        {"key_id": "admin", "role": "admin", "org_id": None}, campaign["id"],
        {"amount": "1.00"}, None)) == as_sent(engine, [
            "UPDATE campaigns", "INSERT donations + INSERT outbox"])
    goods = {"items": [{"name": "大米", "unit": "袋", "quantity": "2", "valuation": "80.00"},
                       {"name": "食用油", "unit": "桶", "quantity": "3", "valuation": "150.00"}],
             "valued_by": "王会计"}
    assert statements_of(engine, lambda: worker().record_in_kind_donation(
        caller(BRANCH), campaign["id"], goods, None))[:3] == as_sent(engine, [
            "SELECT org_units_projection", "UPDATE campaigns",
            "INSERT donations + INSERT donation_items + INSERT donation_items"])[:3]
    # the caller's path is remembered for a moment: the next gift reads no org unit
    assert statements_of(engine, lambda: give(worker, campaign, "1.00", who=BRANCH)) == as_sent(
        engine, ["UPDATE campaigns", "INSERT donations + INSERT outbox"])
    totals = worker().get_campaign(caller(BRANCH), campaign["id"])
    assert (totals["cash_balance"], totals["goods_total"], totals["donation_count"]) == (
        "14.34", "230.00", 4)


def test_balances_stay_exact_to_the_fen(worker, engine, campaign):
    rng = random.Random(13)
    amounts = [Decimal(rng.randint(1, 999_999_999)).scaleb(-2) for _ in range(150)]
    amounts += [Decimal(text) for text in ("0.01", "0.29", "0.57", "1.15", "9999999.99")]
    for amount in amounts:
        give(worker, campaign, format(amount, "f"))
    totals = worker().get_campaign(caller(BRANCH), campaign["id"])
    assert totals["cash_balance"] == totals["cash_total"] == format(sum(amounts), "f")
    with sessionmaker(engine)() as session:
        assert all(result.ok for result in reconcile_all(session))


def pause_before_settling_key(monkeypatch, fail=False):
    """The next gift stops with its key claimed, its number issued and its rows written, until
    `go` is sent; with `fail`, it then rolls back. Returns (paused, go)."""
    paused, go = eventlet.Event(), eventlet.Event()
    write_and_emit = Transaction.write_and_emit

    def write_then_pause(*args, **kwargs):
        write_and_emit(*args, **kwargs)
        if not paused.ready():
            paused.send()
            go.wait()
            if fail:
                raise RuntimeError("the first attempt died before its COMMIT")

    monkeypatch.setattr(Transaction, "write_and_emit", write_then_pause)
    return paused, go


def outcome(work):
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return exc


def test_a_retry_while_the_first_attempt_runs_waits_and_gets_its_gift(worker, engine, campaign,
                                                                     monkeypatch):
    paused, go = pause_before_settling_key(monkeypatch)
    first = eventlet.spawn(outcome, lambda: give(worker, campaign, key="k-1", member_id=MEMBER))
    paused.wait()
    retry = eventlet.spawn(outcome, lambda: give(worker, campaign, key="k-1",
                                                 member_id=MEMBER))
    eventlet.sleep(0.2)
    assert not retry.dead  # waiting for the first attempt's key
    go.send()
    first, retry = first.wait(), retry.wait()
    assert first["replayed"] is False and first["receipt_no"] == 1
    assert retry == {**first, "replayed": True}
    assert gift_rows(engine) == [(1, Decimal("12.34"))]
    assert give(worker, campaign, key="k-2")["receipt_no"] == 2


def test_a_retry_of_a_first_attempt_that_rolled_back_records_the_gift(worker, engine, campaign,
                                                                       monkeypatch):
    paused, go = pause_before_settling_key(monkeypatch, fail=True)
    first = eventlet.spawn(outcome, lambda: give(worker, campaign, key="k-1"))
    paused.wait()
    retry = eventlet.spawn(outcome, lambda: give(worker, campaign, key="k-1"))
    eventlet.sleep(0.2)
    go.send()
    assert isinstance(first.wait(), RuntimeError)
    retry = retry.wait()
    assert (retry["replayed"], retry["receipt_no"]) == (False, 1)  # the number came back
    assert gift_rows(engine) == [(1, Decimal("12.34"))]


def test_one_key_for_two_campaigns_at_once_is_a_conflict(worker, engine, campaign,
                                                         monkeypatch):
    other = worker().create_campaign(caller(BRANCH), campaign_body(title="Flood relief"))
    paused, go = pause_before_settling_key(monkeypatch)
    first = eventlet.spawn(outcome, lambda: give(worker, campaign, key="k-1"))
    paused.wait()
    second = eventlet.spawn(outcome, lambda: give(worker, other, key="k-1"))
    eventlet.sleep(0.2)
    go.send()
    assert first.wait()["receipt_no"] == 1
    conflict = second.wait()
    assert isinstance(conflict, Conflict)
    assert conflict.fields == {"Idempotency-Key": ["was used for a different request"]}
    assert gift_rows(engine) == [(1, Decimal("12.34"))]


@pytest.mark.parametrize("status", ["closed", "settled"])
def test_a_gift_waiting_for_the_campaign_lock_sees_what_its_holder_committed(
        worker, engine, campaign, status):
    holder = engine.connect()
    transaction = holder.begin()
    holder.execute(text("UPDATE campaigns SET status = :status WHERE id = :id"),
                   {"status": status, "id": campaign["id"]})
    gift = eventlet.spawn(outcome, lambda: give(worker, campaign, key="k-1"))
    eventlet.sleep(0.2)
    assert not gift.dead
    transaction.commit()
    holder.close()
    result = gift.wait()
    if status == "closed":
        assert (result["receipt_no"], result["late"]) == (1, True)
    else:
        assert isinstance(result, InvalidTransition)
        assert result.fields == {"status": ["is settled"]}
        assert gift_rows(engine) == []
        with sessionmaker(engine)() as session:
            assert session.scalar(select(Campaign.receipts_issued)) == 0
