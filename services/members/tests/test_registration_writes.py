"""A registration's writes on both databases (migrated by the service's own migrations): the
unique index on the ID number's fingerprint answers the duplicate check in the INSERT itself,
and the reply is the one a read of the stored member gives."""
import eventlet
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from services.members.models import PLUMBING, FlowRecord, Member
from services.plumbing.db import Transaction, UnitOfWork, make_engine
from services.plumbing.errors import Conflict

from .world import ADMIN, id_number, office, outbox, register


@pytest.fixture
def uow(databases):
    """This module's service database: PostgreSQL and SQLite (conftest's `service` and `w` use it)."""
    engine = make_engine(databases.url("members"))
    yield UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, trace_id="req-1")
    engine.dispose()


def counts(uow) -> dict:
    with uow.read() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in (Member.__table__, FlowRecord.__table__, PLUMBING.outbox,
                              PLUMBING.idempotent_replies)}


def test_the_reply_is_the_stored_member_with_its_record_and_event(service, w, uow):
    member = register(service, w, 1)
    assert service.get_member(ADMIN, member["id"]) == member
    assert member["status"] == "pending" and member["giving_total"] == "0.00"
    with uow.read() as session:
        record = session.scalars(select(FlowRecord).where(FlowRecord.member_id == member["id"])).one()
        assert (record.action, record.from_status, record.to_status, record.to_host_org_id,
                record.actor_key_id, record.actor_org_id) == (
            "registered", None, "pending", w["branch"]["id"], office(w["county"])["key_id"],
            w["county"]["id"])
    assert service.member_history(ADMIN, member["id"])["items"][0]["action"] == "registered"
    at_home = register(service, w, 2, host_org_id=None)
    assert service.get_member(ADMIN, at_home["id"]) == at_home
    assert at_home["status"] == "registered"


def test_a_duplicate_is_a_409_with_the_same_body_and_writes_nothing(service, w, uow):
    register(service, w, 1)
    before = counts(uow)
    with pytest.raises(Conflict) as error:
        register(service, w, 1, caller=office(w["other_county"]), home_org_id=w["other_county"]["id"],
                 host_org_id=None)
    assert error.value.as_dict() == {
        "code": "conflict", "message": "a member with this ID number is already registered",
        "fields": {"id_number": ["already registered"]}}
    assert counts(uow) == before
    register(service, w, 2)  # the transaction is usable after the conflict
    assert counts(uow)["members"] == before["members"] + 1


def test_a_duplicate_under_an_idempotency_key_rolls_back_the_claimed_key(service, w, uow):
    register(service, w, 1)
    before = counts(uow)
    uow.idempotency_key = "retry-1"
    with pytest.raises(Conflict):
        register(service, w, 1)
    assert counts(uow) == before  # neither a member nor a stored reply
    # the key was not used up: the same key with another body registers
    member = register(service, w, 2)
    assert register(service, w, 2) == member  # a retry gets the stored reply
    uow.idempotency_key = None
    assert counts(uow)["members"] == before["members"] + 1


def test_two_registrations_of_one_number_at_once_are_one_member_and_a_409(service, w, uow, monkeypatch):
    # The first holds its transaction open after its INSERTs; the second INSERTs meanwhile
    # (PostgreSQL: it waits on the index entry; SQLite: on the write lock), then finds it taken.
    real_insert, calls = Transaction.write_and_emit, []

    def slow_first(tx, rows, envelope):
        calls.append(envelope["event_id"])
        real_insert(tx, rows, envelope)
        if len(calls) == 1:
            eventlet.sleep(0.3)

    monkeypatch.setattr(Transaction, "write_and_emit", slow_first)

    def attempt(caller):
        try:
            return register(service, w, 7, caller=caller)
        except Conflict as error:
            return error.as_dict()["fields"]

    pool = eventlet.GreenPool(2)
    first = pool.spawn(attempt, office(w["county"]))
    eventlet.sleep(0.05)
    second = pool.spawn(attempt, office(w["branch"]))
    results = [first.wait(), second.wait()]
    assert results[1] == {"id_number": ["already registered"]}
    assert results[0]["id_number"] == "110105********" + id_number(7)[-4:]
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1
        assert session.scalar(select(func.count()).select_from(FlowRecord)) == 1
    assert len(calls) == 2   # both tried
    assert len(outbox(uow, "member_registered")) == 1
