"""The supervisor of `make run`: restarts a process that exits, with backoff, says so, and stops
restarting one that crashes in a loop."""
import json
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "local"))
from supervisor import Supervisor  # noqa: E402

from tests.fixtures import wait_for  # noqa: E402

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]


@pytest.fixture
def said():
    return []


def _supervisor(tmp_path, said, **kwargs):
    options = dict(first_backoff=0.1, most_backoff=0.4, crash_limit=3, crash_window=30)
    options.update(kwargs)
    return Supervisor(tmp_path, say=said.append, **options)


def _log(tmp_path):
    return [json.loads(line) for line in (tmp_path / "supervisor.log").read_text().splitlines()]


def test_a_killed_process_is_started_again_and_that_is_said(tmp_path, said):
    supervisor = _supervisor(tmp_path, said)
    supervisor.add("members", SLEEPER, cwd=tmp_path)
    supervisor.start_all()
    try:
        first = supervisor.pid("members")
        supervisor.processes["members"].process.send_signal(signal.SIGKILL)

        def restarted():
            supervisor.poll()
            return supervisor.running("members") and supervisor.pid("members") != first

        wait_for(restarted, timeout=10, message="members to be restarted")
        assert any("members exited (signal 9); restarting" in line for line in said), said
        assert any("members restarted" in line for line in said), said
        assert [e["event"] for e in _log(tmp_path)] == ["exited", "restarted"]
    finally:
        supervisor.stop_all()
    assert not supervisor.running("members")


def test_a_process_that_crashes_in_a_loop_is_left_stopped_with_the_reason(tmp_path, said):
    supervisor = _supervisor(tmp_path, said)
    supervisor.add("donations", CRASHER, cwd=tmp_path)
    supervisor.start_all()

    def given_up():
        supervisor.poll()
        return supervisor.processes["donations"].gave_up

    reason = wait_for(given_up, timeout=20, message="the supervisor to give up")
    assert "exited 3 times within 30 s (last: exit code 3); not restarting" in reason
    assert _log(tmp_path)[-1]["event"] == "gave_up"
    restarts = supervisor.processes["donations"].restarts
    time.sleep(0.5)
    supervisor.poll()
    assert supervisor.processes["donations"].restarts == restarts  # really left alone
    supervisor.stop_all()


def test_backoff_grows_between_restarts(tmp_path, said):
    supervisor = _supervisor(tmp_path, said, crash_limit=10, first_backoff=0.2, most_backoff=0.8)
    supervisor.add("webhooks", CRASHER, cwd=tmp_path)
    supervisor.start_all()
    wait_for(lambda: (supervisor.poll(), supervisor.processes["webhooks"].restarts >= 4)[1],
             timeout=20)
    supervisor.stop_all()
    delays = [line.rsplit("restarting in ", 1)[1] for line in said if "restarting in" in line]
    assert delays[:4] == ["0.2 s", "0.4 s", "0.8 s", "0.8 s"], delays  # doubling, capped


def test_processes_do_not_outlive_a_killed_supervisor(tmp_path):
    """A supervisor killed outright (kill -9, a test timeout) takes its processes with it."""
    import subprocess
    import textwrap
    script = tmp_path / "supervise.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2] / "deploy" / "local")!r})
        from supervisor import Supervisor
        s = Supervisor({str(tmp_path)!r}, say=lambda m: None)
        s.add("sleeper", {SLEEPER!r}, cwd={str(tmp_path)!r})
        s.start_all()
        print(s.pid("sleeper"), flush=True)
        time.sleep(60)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def gone():
        try:
            with open(f"/proc/{child}/status") as status:
                return "zombie" in status.read()
        except FileNotFoundError:
            return True

    wait_for(gone, timeout=10, message="the supervised process to stop with its supervisor")
