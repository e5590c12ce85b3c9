"""Import throughput and memory: a county's ledger of N rows (CSV or XLSX) through the members
service's own import path, on a throw-away PostgreSQL database and on a SQLite file.

Each case runs in a child process on a file written beforehand: the file is staged in pieces
as the gateway sends it (open, append, finish: the upload), then the background handler imports
it (`run_import`) in batches. The clock covers both; the child reports its rows per second and
its peak resident memory (VmHWM) against its memory just before the upload, so the memory
the import itself needed stands apart from the interpreter's. 1 % of the rows are invalid and
0.5 % repeat an earlier row, as in a real ledger.

Printed as ratios, never asserted: rows/s against the 5,000 rows/s target, and the memory of
100,000 rows against that of 20,000 (about 1 when memory is bounded by the batch, not the file).

    PYTHONWARNINGS=ignore .venv/bin/python bench/import_members.py [--rows 20000 100000]
        [--formats csv xlsx] [--backends postgresql sqlite] [--profile]
"""
import argparse
import base64
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_ROWS_PER_SECOND = 5000
HEADER = ["name", "id_number", "phone", "home_org_id", "host_org_id", "category", "occupation",
          "joined_party_on", "languages", "notes"]
HASH_KEY, ENCRYPTION_KEY = "bench-hash-key", "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA="


def id_number(serial: int) -> str:
    from services.members.id_numbers import check_char
    born = date(1950, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"110105{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_char(first17)


def ledger_rows(count: int, home: str, host: str):
    for i in range(count):
        number = id_number(i)
        if i % 100 == 7:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check digit
        elif i % 200 == 11:
            number = id_number(i - 1)  # the row above again
        yield [f"党员{i}", number, f"138{i % 100000000:08d}", home, host,
               ("working", "non_working_resident", "stationed")[i % 3],
               ("migrant_worker", "business_owner", "company_employee", "other")[i % 4],
               "2005-07-01", "普通话;藏语" if i % 5 == 0 else "", "" if i % 3 else "驻京"]


def write_file(path: Path, file_format: str, count: int, home: str, host: str) -> None:
    if file_format == "csv":
        with open(path, "w", newline="", encoding="utf-8-sig") as out:
            writer = csv.writer(out)
            writer.writerow(HEADER)
            writer.writerows(ledger_rows(count, home, host))
        return
    # A normal (not write-only) workbook: shared strings, as Excel and WPS save them.
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in ledger_rows(count, home, host):
        sheet.append(row)
    book.save(path)


# -- the child: one measured import -------------------------------------------------------------
def peak_rss_kib(pid="self") -> int:
    """A process's peak resident memory. (ru_maxrss would not do: Linux keeps it across
    exec, so a child would report the parent's peak from writing the file.)"""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def process_cpu_seconds(pid) -> float:
    """CPU seconds (user + system) a running process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(args) -> None:
    import resource

    import eventlet
    eventlet.monkey_patch()
    from sqlalchemy.orm import sessionmaker

    from services.members import bulk
    from services.members.id_numbers import IdProtector
    from services.members.import_worker import ImportWorkers
    from services.members.models import PLUMBING, ImportBatch
    from services.plumbing.caller import Caller
    from services.plumbing.db import UnitOfWork, make_engine
    from services.plumbing.envelope import ReceivedEvent

    engine = make_engine(args.url)
    uow = UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, trace_id="bench")
    protector = IdProtector(HASH_KEY, ENCRYPTION_KEY)
    caller = Caller.of_key("bench", "office", args.county)
    path = Path(args.file)
    size = path.stat().st_size
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    # As the members service does when it starts: its import workers started and waiting.
    workers = ImportWorkers(args.workers)
    workers.start()
    worker_pids = workers.wait_ready()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_before, cpu_before = peak_rss_kib(), usage.ru_utime + usage.ru_stime
    worker_cpu_before = sum(process_cpu_seconds(pid) for pid in worker_pids)
    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    with uow.transaction() as tx:
        batch_id = bulk.open_upload(tx, caller, {"format": args.format},
                                    {"size": size, "sha256": sha256}).id
    with open(path, "rb") as upload:
        seq = 0
        while piece := upload.read(bulk.CHUNK_BYTES):
            with uow.transaction() as tx:
                bulk.append_chunk(tx, caller, batch_id, seq, base64.b64encode(piece).decode(),
                                  protector)
            seq += 1
    with uow.transaction() as tx:
        bulk.finish_upload(tx, caller, batch_id, protector)
        envelope = tx.emitted[-1]
    uploaded = time.perf_counter()
    bulk.run_import(uow, ReceivedEvent.from_envelope(envelope, "members.bench"), batch_id,
                    protector, workers if args.workers else None)
    finished = time.perf_counter()
    worker_cpu = sum(process_cpu_seconds(pid) for pid in worker_pids) - worker_cpu_before
    worker_rss = max([peak_rss_kib(pid) for pid in worker_pids] or [0])
    workers.stop()
    if profiler:
        import pstats
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumtime").print_stats("services/", 30)
        stats.print_callers("method .execute. of")
    with uow.read() as session:
        batch = session.get(ImportBatch, batch_id)
        counts = {"status": batch.status, "imported": batch.imported,
                  "duplicates": batch.duplicates, "invalid": batch.invalid,
                  "processed_rows": batch.processed_rows}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_peak = peak_rss_kib()
    print(json.dumps({"seconds": finished - started, "upload_seconds": uploaded - started,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
                      "worker_cpu_seconds": worker_cpu, "worker_rss_peak_kib": worker_rss,
                      "rss_before_kib": rss_before, "rss_peak_kib": rss_peak, **counts}))


# -- the parent: databases, files, children, the table --------------------------------------------
def setup_database(backend: str, workdir: Path, stack):
    """(url, county id, township id, branch id) of a fresh migrated members database."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.members.models import OrgUnit
    from services.plumbing.envelope import utcnow
    from services.plumbing.migrate import upgrade
    if backend == "postgresql":
        from bench.scratch import ADMIN_URL, scratch_database
        admin_url = os.environ.get("LIUDONG_TEST_PG_URL", ADMIN_URL)
        engine = stack.enter_context(scratch_database("members", admin_url))
        url = engine.url.render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{workdir / f'members-{time.time_ns()}.db'}"
        upgrade("members", url)
        engine = create_engine(url)
    ids = {}
    with Session(engine) as session:
        for key, kind, parent in (("county", "county", None), ("township", "township", "county"),
                                  ("committee", "joint_committee", None),
                                  ("branch", "branch", "committee")):
            ids[key] = f"{key}-0000-0000-0000-000000000000"[:36]
            path = (session.get(OrgUnit, ids[parent]).path if parent else "/") + ids[key] + "/"
            session.add(OrgUnit(id=ids[key], parent_id=ids[parent] if parent else None, kind=kind,
                                name=key, city="北京", path=path, created_at=utcnow()))
            session.flush()
        session.commit()
    if backend != "postgresql":
        engine.dispose()
    return url, ids


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx"])
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"],
                        choices=["postgresql", "sqlite"])
    parser.add_argument("--profile", action="store_true", help="cProfile each child (slower)")
    parser.add_argument("--workers", type=int, default=1,
                        help="import worker processes, as MEMBER_IMPORT_WORKERS (0: rows checked in-process)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        child_args = argparse.Namespace(**json.loads(rest[0]))
        return child(child_args)
    from contextlib import ExitStack
    results = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        for backend in args.backends:
            for file_format in args.formats:
                for count in args.rows:
                    url, ids = setup_database(backend, workdir, stack)
                    path = workdir / f"ledger-{count}.{file_format}"
                    write_file(path, file_format, count, ids["township"], ids["branch"])
                    spec = {"url": url, "county": ids["county"], "file": str(path),
                            "format": file_format, "profile": args.profile, "workers": args.workers}
                    done = subprocess.run(
                        [sys.executable, __file__, "--child", json.dumps(spec)], cwd=REPO,
                        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
                    if args.profile:
                        print(done.stderr[-6000:])
                    if done.returncode:
                        sys.exit(f"{backend} {file_format} {count}: {done.stderr[-3000:]}")
                    result = json.loads(done.stdout.strip().splitlines()[-1])
                    result.update(backend=backend, format=file_format, rows=count)
                    results.append(result)
                    report(result)
    print()
    by_case = {(r["backend"], r["format"], r["rows"]): r for r in results}
    for backend in args.backends:
        for file_format in args.formats:
            small, large = (by_case.get((backend, file_format, n)) for n in (20000, 100000))
            if small and large:
                growth = lambda r: max(r["rss_peak_kib"] - r["rss_before_kib"], 1)  # noqa: E731
                print(f"{backend:10} {file_format:4}  memory for 100,000 rows / for 20,000 rows: "
                      f"{growth(large) / growth(small):.2f}")


def report(r):
    rate = r["rows"] / r["seconds"]
    print(f"{r['backend']:10} {r['format']:4} {r['rows']:>7} rows: {r['seconds']:6.2f} s "
          f"(upload {r['upload_seconds']:.2f} s)  {rate:7.0f} rows/s = "
          f"{rate / TARGET_ROWS_PER_SECOND:.2f} x target (CPU: service {r['cpu_seconds']:.2f} s + worker "
          f"{r['worker_cpu_seconds']:.2f} s = {r['rows'] / (r['cpu_seconds'] + r['worker_cpu_seconds']):.0f} "
          f"rows per CPU second)  peak RSS {r['rss_peak_kib'] / 1024:.0f} MiB "
          f"(+{(r['rss_peak_kib'] - r['rss_before_kib']) / 1024:.0f} MiB for the import; worker "
          f"{r['worker_rss_peak_kib'] / 1024:.0f} MiB)  "
          f"{r['status']}: {r['imported']} imported, {r['duplicates']} duplicates, "
          f"{r['invalid']} invalid", flush=True)


if __name__ == "__main__":
    main()
