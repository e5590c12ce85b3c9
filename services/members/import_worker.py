"""Import worker processes: an import's rows read and checked beside the service, on another core.

A row of an import costs about as much to read and check (ledger_rows: parsing, the field
checks, the ID number's fingerprint and encryption) as to write (bulk.py: org units, history,
events, the inserts). In one process the two halves take turns on one core; here the members
service hands the file to a worker process, which sends back checked batches while the service
writes the ones before. The service keeps `warm` workers started (a worker needs about a second
of CPU to start, as long as 5,000 rows take), so an import does not wait for one.

The worker is `python -m services.members.import_worker`: it reads framed messages on stdin and
answers on stdout, one job after another, and exits when stdin closes (its service has gone).
It reads the staged file from the service's database itself (a piece at a time, as the service
would): fed through the service, it would wait whenever the service is busy writing. Parent to
worker: ("job", ImportJob, IdProtector, database URL). Worker to parent: ("ready",) once
started, then per job ("checked", CheckedRows) per batch and ("done",), ("unreadable",
message) or ("failed", traceback). A frame is 8 bytes of length and a pickle (both ends are
this code, over a pipe no one else holds).
"""
import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from services.plumbing.db import make_engine

from . import ledger_rows
from .ledger_rows import UnreadableFile

log = logging.getLogger(__name__)
_LENGTH = struct.Struct("!Q")
_REPO = Path(__file__).resolve().parents[2]


class WorkerFailed(Exception):
    """The import worker stopped or failed in the middle of a job (the import is retried)."""


def send(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(stream, _LENGTH.pack(len(data)))
    _write_all(stream, data)
    stream.flush()


def receive(stream):
    """The next message, or None at the end of the stream."""
    head = _read_exactly(stream, _LENGTH.size)
    if head is None:
        return None
    data = _read_exactly(stream, _LENGTH.unpack(head)[0])
    return None if data is None else pickle.loads(data)


def _write_all(stream, data) -> None:
    # A pipe's unbuffered stream (as a subprocess's, green or not) may take part of it.
    view = memoryview(data)
    while view:
        view = view[stream.write(view):]


def _read_exactly(stream, size: int) -> bytes | None:
    """`size` bytes, or None when the stream ends first."""
    parts, missing = [], size
    while missing:
        part = stream.read(missing)
        if not part:
            return None
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


# -- the parent's side ---------------------------------------------------------------------------
class _Worker:
    def __init__(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
        # The service's own working directory: a relative SQLite path means the same file.
        self.process = subprocess.Popen([sys.executable, "-m", "services.members.import_worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self._ready = False

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        """Returns once the worker has started (its first frame says so)."""
        if not self._ready:
            if receive(self.process.stdout) != ("ready",):
                raise WorkerFailed("the import worker did not start")
            self._ready = True

    def run(self, job, protector, database_url: str):
        """The job's checked batches, as the worker sends them. Ends cleanly only when the
        worker said so; anything else (the caller stopping early included) ends the worker."""
        finished = False
        try:
            self.wait_ready()
            send(self.process.stdin, ("job", job, protector, database_url))
            while True:
                message = receive(self.process.stdout)
                if message is None:
                    raise WorkerFailed("the import worker stopped")
                kind = message[0]
                if kind == "checked":
                    yield message[1]
                elif kind == "done":
                    finished = True
                    return
                elif kind == "unreadable":
                    finished = True
                    raise UnreadableFile(message[1])
                else:
                    raise WorkerFailed(f"the import worker failed:\n{message[1]}")
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WorkerFailed(f"the import worker stopped: {exc}") from None
        finally:
            if not finished:
                self.stop()

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


class ImportWorkers:
    """Keeps `warm` import workers started for the imports of one service process. `warm` 0:
    every import reads and checks its rows in the service process itself."""

    def __init__(self, warm: int):
        self.warm = warm
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._top_up()

    def wait_ready(self) -> list[int]:
        """Waits until the idle workers have started; their process ids."""
        with self._lock:
            idle = list(self._idle)
        for worker in idle:
            worker.wait_ready()
        return [worker.process.pid for worker in idle]

    def stop(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def checked_batches(self, job, protector, database_url: str, local_pieces):
        """What ledger_rows.checked_batches gives for the staged file of `job`, from a worker;
        when none can be started, in this process from `local_pieces()` (the file as this
        process reads it)."""
        worker = self._take()
        if worker is None:
            yield from ledger_rows.checked_batches(job, local_pieces(), protector)
            return
        try:
            yield from worker.run(job, protector, database_url)
        finally:
            with self._lock:
                if worker.alive() and len(self._idle) < self.warm:
                    self._idle.append(worker)
                    worker = None
            if worker is not None:
                worker.stop()
            self._top_up()

    def _take(self) -> _Worker | None:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.stop()
        try:
            return _Worker()
        except OSError:
            log.exception("cannot start an import worker: this import checks its rows in the service")
            return None

    def _top_up(self) -> None:
        with self._lock:
            while len(self._idle) < self.warm:
                try:
                    self._idle.append(_Worker())
                except OSError:
                    log.exception("cannot start an import worker")
                    return


# -- the worker's side ---------------------------------------------------------------------------
_ENGINES = {}  # database URL -> engine, kept from one job to the next


def _worker_pieces(database_url: str, job, protector):
    if database_url not in _ENGINES:
        _ENGINES[database_url] = make_engine(database_url)
    return ledger_rows.stored_pieces(sessionmaker(_ENGINES[database_url]), job.batch_id, protector)


class _Sender:
    """Writes the worker's frames from a thread of its own, so the next batch is checked while
    the service takes the one before out of the pipe."""

    def __init__(self, sink):
        self._sink = sink
        self._queue = queue.Queue(maxsize=1)
        self.broken = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def put(self, message) -> None:
        if self.broken:
            raise BrokenPipeError("the service stopped reading")
        self._queue.put(message)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self):
        while (message := self._queue.get()) is not None:
            if not self.broken:
                try:
                    send(self._sink, message)
                except OSError:
                    self.broken = True


def main() -> None:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not land among the frames
    send(sink, ("ready",))
    while True:
        message = receive(source)
        if message is None:
            return  # the service has gone
        _kind, job, protector, database_url = message
        sender = _Sender(sink)
        try:
            for checked in ledger_rows.checked_batches(job, _worker_pieces(database_url, job, protector),
                                                       protector):
                sender.put(("checked", checked))
            outcome = ("done",)
        except UnreadableFile as exc:
            outcome = ("unreadable", str(exc))
        except BrokenPipeError:
            return
        except Exception:  # noqa: BLE001 - told to the service, which fails the attempt
            outcome = ("failed", traceback.format_exc())
        sender.put(outcome)
        sender.close()
        if sender.broken:
            return


if __name__ == "__main__":
    main()
