"""An import whose rows are read and checked by an import worker process (import_worker.py)
imports and reports exactly what one checked in the service does; a worker that dies midway
fails that attempt only (the redelivery resumes with a new worker, nothing twice); the pool
keeps a worker warm, reuses it and replaces a dead one; a worker leaves with its service."""
import base64
import csv
import hashlib
import io
import itertools
import os
import signal
import subprocess
import sys
import time

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select

from services.members import bulk
from services.members.import_worker import ImportWorkers, WorkerFailed
from services.members.ledger_rows import ImportJob, UnreadableFile, batch_sizes
from services.members.models import FlowRecord, ImportFileChunk, Member
from services.members.service import MembersService
from services.plumbing.caller import Caller

from .conftest import CONFIG
from .world import id_number, office, received, register

HEADER = ["name", "id_number", "phone", "home_org_id", "host_org_id", "category", "languages"]


@pytest.fixture
def workers():
    pool = ImportWorkers(1)
    pool.start()
    yield pool
    pool.stop()


def ledger(w, count):
    """`count` rows; every 50th has a wrong check digit, every 70th repeats the row before."""
    rows = []
    for i in range(count):
        number = id_number(i % 1000, birth=f"{1960 + i // 1000}0101")
        if i % 50 == 7:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")
        elif i % 70 == 9:
            number = rows[-1][1]
        rows.append([f"导入{i}", number, "13800001234", w["village"]["id"], w["branch"]["id"],
                     "working", "普通话;藏语" if i % 3 else ""])
    rows[20][3] = w["other_township"]["id"]  # not the county's: invalid
    rows.insert(30, [])                          # a blank line
    return rows


def csv_body(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER] + rows)
    return {"format": "csv", "content_base64": base64.b64encode(buffer.getvalue().encode()).decode()}


def import_file(service, uow, w, body):
    county = office(w["county"])
    batch = service.start_import(county, body)
    event = received(uow, "member_import_requested", "on_member_import_requested", batch_id=batch["id"])
    return county, batch["id"], event


def outcome(service, uow, w, county, batch_id):
    report = service.get_import(county, batch_id)
    errors = base64.b64decode(service.import_error_file(county, batch_id, "csv")["content_base64"])
    with uow.read() as session:
        members = session.execute(select(Member.name, Member.import_row, Member.languages,
                                         Member.status).order_by(Member.import_row)).all()
    return ({k: report[k] for k in ("status", "processed_rows", "total_rows", "imported",
                                    "duplicates", "invalid", "errors", "duplicate_rows", "failure")},
            [tuple(m) for m in members], errors)


@pytest.mark.parametrize("count", [40, 900], ids=["one batch", "many batches"])
def test_an_import_checked_by_a_worker_imports_and_reports_what_one_checked_in_the_service_does(
        uow, w, workers, monkeypatch, tmp_path, count):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 64)
    register(service_in_process := worker_factory(MembersService, db=uow, config=CONFIG,
                                                  import_workers=None), w, 4)
    rows = ledger(w, count)
    county, in_process_id, event = import_file(service_in_process, uow, w, csv_body(rows))
    service_in_process.on_member_import_requested(event)
    expected = outcome(service_in_process, uow, w, county, in_process_id)
    with uow.transaction() as tx:  # the same file again, into a ledger without those members
        imported = select(Member.id).where(Member.import_batch_id.is_not(None))
        tx.session.execute(FlowRecord.__table__.delete().where(FlowRecord.member_id.in_(imported)))
        tx.session.execute(Member.__table__.delete().where(Member.import_batch_id.is_not(None)))

    service = worker_factory(MembersService, db=uow, config=CONFIG, import_workers=workers)
    worker_pid = workers.wait_ready()[0]
    county, batch_id, event = import_file(service, uow, w, csv_body(rows))
    service.on_member_import_requested(event)
    assert outcome(service, uow, w, county, batch_id) == expected
    assert expected[0]["status"] == "done" and expected[0]["invalid"] > count // 50
    assert workers.wait_ready() == [worker_pid]  # the same worker, kept for the next import


def test_a_worker_that_dies_midway_fails_that_attempt_and_the_redelivery_finishes_the_import(
        uow, w, workers, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 8)
    service = worker_factory(MembersService, db=uow, config=CONFIG, import_workers=workers)
    county, batch_id, event = import_file(service, uow, w, csv_body(ledger(w, 3000)))
    first_worker = workers.wait_ready()[0]
    real_import_rows, calls = bulk.import_rows, []

    def kill_the_worker_at_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(first_worker, signal.SIGKILL)
        return real_import_rows(*args, **kwargs)

    monkeypatch.setattr(bulk, "import_rows", kill_the_worker_at_the_second_batch)
    with pytest.raises(WorkerFailed):
        service.on_member_import_requested(event)
    half_done = service.get_import(county, batch_id)
    assert half_done["status"] == "running" and 16 <= half_done["processed_rows"] < 3001
    second_worker = workers.wait_ready()[0]
    assert second_worker != first_worker
    service.on_member_import_requested(event)  # the redelivery
    done = service.get_import(county, batch_id)
    assert (done["status"], done["processed_rows"]) == ("done", 3001)
    with uow.read() as session:
        imported = session.scalar(select(func.count()).select_from(Member))
        rows = session.scalar(select(func.count(func.distinct(Member.import_row))))
    assert imported == rows == done["imported"]


def test_a_file_the_worker_finds_unreadable_midway_is_said_so_and_the_worker_is_kept(uow, w, workers):
    # CSV rows are all read when the upload finishes; this one is staged without that check,
    # as an XLSX sheet broken past its header would be.
    county = office(w["county"])
    rows = ledger(w, 2000)  # more than the reader decodes at once: the bad bytes come late
    content = "\n".join(",".join(row) for row in [HEADER] + rows).encode() + b"\n\xff\xfe\n"
    protector = worker_factory(MembersService, db=uow, config=CONFIG)._protector()
    with uow.transaction() as tx:
        caller = Caller.from_wire(county)
        batch = bulk.open_upload(tx, caller, {"format": "csv"}, {
            "size": len(content), "sha256": hashlib.sha256(content).hexdigest()})
        bulk.append_chunk(tx, caller, batch.id, 0, base64.b64encode(content).decode(), protector)
        batch_id = batch.id
    pid = workers.wait_ready()[0]
    job = ImportJob(file_format="csv", columns=HEADER, skip_rows=0, batch_id=batch_id,
                    batch_size=500, max_rows=5000)
    seen = []
    with pytest.raises(UnreadableFile, match="not a readable csv file"):
        for checked in workers.checked_batches(job, protector, uow.database_url(), _not_here):
            seen.append(checked.size)
    assert seen[:2] == [250, 500] and sum(seen) < len(rows)  # (the first batches ramp up)
    assert workers.wait_ready() == [pid]


def test_the_pool_replaces_a_dead_worker_and_falls_back_to_the_service_when_none_starts(
        uow, w, workers, monkeypatch):
    pid = workers.wait_ready()[0]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    service = worker_factory(MembersService, db=uow, config=CONFIG, import_workers=workers)
    county, batch_id, event = import_file(service, uow, w, csv_body(ledger(w, 30)))
    service.on_member_import_requested(event)
    assert service.get_import(county, batch_id)["status"] == "done"
    assert workers.wait_ready()[0] not in (pid,)

    def cannot_start(*_args, **_kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(subprocess, "Popen", cannot_start)
    workers.stop()
    county, batch_id, event = import_file(service, uow, w, csv_body(ledger(w, 30)[:5]))
    service.on_member_import_requested(event)  # checked in the service itself
    assert service.get_import(county, batch_id)["status"] == "done"


def test_a_worker_leaves_when_its_service_goes():
    parent = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, '.');"
        "from services.members.import_worker import ImportWorkers;"
        "pool = ImportWorkers(1); pool.start(); print(pool.wait_ready()[0], flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(bulk.__file__) + "/../..")
    worker = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(worker):
        time.sleep(0.05)
    assert not _running(worker)


def _not_here():
    raise AssertionError("the worker reads the file, not the service")


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(("skip", "total", "sizes"), [
    (0, 0, [250, 500, 1000, 2000, 2000]),                 # count not known: ramp up only
    (0, 10000, [250, 500, 1000, 2000, 2000, 2000, 1125, 562, 281, 250]),
    (0, 300, [250, 250]),                                   # never under 250 rows
    (4000, 5000, [250, 375, 250, 250]),                     # a resumed import ramps up again
])
def test_the_first_and_last_batches_are_smaller(skip, total, sizes):
    job = ImportJob(file_format="csv", columns=HEADER, skip_rows=skip, batch_id="b",
                    batch_size=2000, max_rows=100000, total_rows=total)
    assert list(itertools.islice(batch_sizes(job), len(sizes))) == sizes
    small = ImportJob(file_format="csv", columns=HEADER, skip_rows=0, batch_id="b", batch_size=4,
                      max_rows=100, total_rows=20)
    assert list(itertools.islice(batch_sizes(small), 6)) == [4] * 6  # tests' tiny batches as they are


@pytest.mark.parametrize("with_worker", [False, True], ids=["in the service", "in a worker"])
def test_an_import_whose_staged_file_is_gone_fails_saying_so_never_done_with_nothing(
        uow, w, workers, with_worker):
    service = worker_factory(MembersService, db=uow, config=CONFIG,
                             import_workers=workers if with_worker else None)
    county, batch_id, event = import_file(service, uow, w, csv_body(ledger(w, 30)))
    with uow.transaction() as tx:  # as if the worker read another database than the service
        tx.session.execute(ImportFileChunk.__table__.delete())
    service.on_member_import_requested(event)
    report = service.get_import(county, batch_id)
    assert (report["status"], report["imported"]) == ("failed", 0)
    assert report["failure"].startswith("the staged file is not in the database")
