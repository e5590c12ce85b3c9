"""deploy/local/infra.py's Prometheus for `make run`: installed (Debian's, without recommends)
when missing and root, otherwise one line and the platform runs without it; started with its
config and data under the given var directory, ready before it returns, stopped by Ctrl-C."""
import signal
import socket
import subprocess

import pytest
import requests
import yaml

from tests.fixtures import free_port, wait_for
from tests.ops.test_prometheus_live import load_infra

pytestmark = pytest.mark.ops


@pytest.fixture
def infra():
    return load_infra()


def test_missing_prometheus_is_installed_without_recommends_when_root(infra, monkeypatch):
    commands = []
    installed = set()
    monkeypatch.setattr(infra.shutil, "which", lambda name: f"/usr/bin/{name}"
                        if name != "prometheus" or installed else None)
    monkeypatch.setattr(infra.os, "geteuid", lambda: 0)

    def run(cmd, **kwargs):
        commands.append(cmd)
        if cmd[:2] == ["apt-get", "install"]:
            installed.add(cmd[-1])
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(infra.subprocess, "run", run)
    assert infra.ensure_prometheus() is True
    assert ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"] in commands


def test_missing_prometheus_without_root_is_one_line_and_no_start(infra, monkeypatch, capsys,
                                                                    tmp_path):
    monkeypatch.setattr(infra.shutil, "which",
                        lambda name: None if name == "prometheus" else f"/usr/bin/{name}")
    monkeypatch.setattr(infra.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(infra.subprocess, "run", lambda *a, **kw: pytest.fail("ran a command"))
    monkeypatch.setattr(infra.subprocess, "Popen", lambda *a, **kw: pytest.fail("started one"))
    assert infra.start_prometheus(tmp_path, {"gateway": ["127.0.0.1:9100"]}) is None
    (line,) = capsys.readouterr().out.splitlines()
    assert "apt-get install --no-install-recommends prometheus" in line


def test_a_taken_port_is_one_line_and_no_start(infra, capsys, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert infra.start_prometheus(tmp_path, {"gateway": ["127.0.0.1:9100"]}, port=port) is None
    (line,) = capsys.readouterr().out.splitlines()
    assert f"127.0.0.1:{port}" in line and "PROMETHEUS_PORT" in line
    assert not (tmp_path / "prometheus" / "data").exists()


def test_started_with_its_config_and_storage_under_var_and_stopped_by_ctrl_c(infra, tmp_path,
                                                                               capsys):
    port = free_port()
    targets = {"gateway": [f"127.0.0.1:{free_port()}"], "rabbitmq": ["127.0.0.1:15692"]}
    process = infra.start_prometheus(tmp_path, targets, port=port)
    assert process is not None
    try:
        assert process.url == f"http://127.0.0.1:{port}"
        assert f"Prometheus on {process.url}" in capsys.readouterr().out
        config = yaml.safe_load((tmp_path / "prometheus" / "prometheus.yml").read_text())
        assert config["rule_files"] == [str(infra.PROMETHEUS_RULES_DIR / name)
                                        for name in ("alerts.yml", "slo.yml")]
        assert (tmp_path / "prometheus" / "data").is_dir()
        assert (tmp_path / "log" / "prometheus.log").exists()
        rules = requests.get(f"{process.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert {g["file"] for g in rules} == set(config["rule_files"])

        def jobs():
            active = requests.get(f"{process.url}/api/v1/targets", timeout=5).json()
            return {t["labels"]["job"] for t in active["data"]["activeTargets"]}

        wait_for(lambda: jobs() == set(targets), timeout=20, interval=0.2,
                 message="the scrape targets of the config")
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends to the whole process group
        assert process.wait(30) == 0
