"""Keeps the platform's processes running on one machine (`make run`, and the chaos tests).

A process that exits is started again after a backoff (1 s, doubling up to 30 s, reset once it
has stayed up for a minute); a process that exits `crash_limit` times within `crash_window`
seconds is crashing in a loop, so it is left stopped and the reason is said. Every start, exit
and give-up is printed on the console and written as a JSON line to `<log_dir>/supervisor.log`.
"""
import ctypes
import json
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _terminate_with_parent() -> None:
    """In the child, before exec: SIGTERM it when the supervisor dies, however it dies (a
    kill -9, a test runner's timeout), so no process is left running unsupervised (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: Ctrl-C and stop_all still stop everything


@dataclass
class Supervised:
    name: str
    argv: list
    env: dict | None
    cwd: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    exits: list = field(default_factory=list)   # monotonic times of recent exits
    restart_at: float | None = None             # when the next start is due
    gave_up: str | None = None                  # why it is no longer restarted
    restarts: int = 0


class Supervisor:
    def __init__(self, log_dir: Path, say=print, crash_limit: int = 5, crash_window: float = 60.0,
                 first_backoff: float = 1.0, most_backoff: float = 30.0, stable_after: float = 60.0):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.say = say
        self.crash_limit, self.crash_window = crash_limit, crash_window
        self.first_backoff, self.most_backoff = first_backoff, most_backoff
        self.stable_after = stable_after
        self.processes: dict[str, Supervised] = {}

    # -- what runs -------------------------------------------------------------------------------
    def add(self, name: str, argv: list, cwd: Path, env: dict | None = None) -> None:
        self.processes[name] = Supervised(name, list(argv), env, Path(cwd))

    def start_all(self) -> None:
        for item in self.processes.values():
            self._start(item)

    def running(self, name: str) -> bool:
        item = self.processes[name]
        return item.process is not None and item.process.poll() is None

    def pid(self, name: str) -> int | None:
        item = self.processes[name]
        return item.process.pid if item.process is not None else None

    def _start(self, item: Supervised) -> None:
        log = open(self.log_dir / f"{item.name}.log", "a")
        # Its own session: a Ctrl-C in the terminal reaches the supervisor only, which then
        # stops every process in order instead of restarting the ones the signal ended.
        item.process = subprocess.Popen(item.argv, cwd=item.cwd, env=item.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=_terminate_with_parent)
        log.close()  # the child has its own copy
        item.started_at = time.monotonic()
        item.restart_at = None

    # -- watching ----------------------------------------------------------------------------------
    def poll(self) -> None:
        """Notice exits, restart what is due; call every fraction of a second."""
        now = time.monotonic()
        for item in self.processes.values():
            if item.gave_up:
                continue
            if item.process is not None and item.restart_at is None:
                code = item.process.poll()
                if code is None:
                    if now - item.started_at > self.stable_after:
                        item.exits.clear()  # it has been up long enough: forget old crashes
                    continue
                self._exited(item, code, now)
            if item.restart_at is not None and now >= item.restart_at:
                item.restarts += 1
                self._start(item)
                self._note(item, "restarted", f"{item.name} restarted (restart {item.restarts}, "
                                              f"pid {item.process.pid})")

    def _exited(self, item: Supervised, code: int, now: float) -> None:
        item.exits = [t for t in item.exits if now - t < self.crash_window] + [now]
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        if len(item.exits) >= self.crash_limit:
            item.gave_up = (f"exited {len(item.exits)} times within {self.crash_window:.0f} s "
                            f"(last: {how}); not restarting it — see "
                            f"{self.log_dir / (item.name + '.log')}")
            self._note(item, "gave_up", f"{item.name} {item.gave_up}", code=code)
            return
        delay = min(self.first_backoff * 2 ** (len(item.exits) - 1), self.most_backoff)
        item.restart_at = now + delay
        self._note(item, "exited", f"{item.name} exited ({how}); restarting in {delay:.1f} s",
                   code=code)

    def _note(self, item: Supervised, what: str, message: str, **extra) -> None:
        self.say(message)
        line = {"time": datetime.now(UTC).isoformat(), "process": item.name,
                "event": what, "message": message} | extra
        with open(self.log_dir / "supervisor.log", "a") as log:
            log.write(json.dumps(line, ensure_ascii=False) + "\n")

    # -- stopping ----------------------------------------------------------------------------------
    def stop_all(self, grace: float = 15.0) -> None:
        alive = [i.process for i in self.processes.values()
                 if i.process is not None and i.process.poll() is None]
        for item in self.processes.values():
            item.restart_at = None
            item.gave_up = item.gave_up or "stopped"
        for process in alive:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in alive:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
