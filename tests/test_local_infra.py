"""`make test` makes its own prerequisites ready, like `make run` does for RabbitMQ: promtool
(Debian's `prometheus`, without recommends) is installed when missing and root; otherwise one
clear line says what to install."""
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def infra(monkeypatch):
    """deploy/local/infra.py as a module; the browser part of `test-tools` (its own tests) is
    left out here."""
    spec = importlib.util.spec_from_file_location("local_infra", REPO / "deploy/local/infra.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "ensure_browser"):
        monkeypatch.setattr(module, "ensure_browser", lambda: None)
    return module


def test_make_test_readies_its_tools_before_running_the_tests():
    recipe = re.search(r"^test:.*?(?=^\S)", (REPO / "Makefile").read_text(), re.M | re.S).group(0)
    assert recipe.index("infra.py test-tools") < recipe.index("pytest")


def test_a_missing_promtool_is_installed_without_recommends_when_root(infra, monkeypatch):
    commands = []
    monkeypatch.setattr(infra.shutil, "which",
                        lambda name: None if name in ("promtool", "prometheus") else f"/usr/bin/{name}")
    monkeypatch.setattr(infra.os, "geteuid", lambda: 0)
    monkeypatch.setattr(infra.subprocess, "run",
                        lambda cmd, **kw: commands.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    infra.main(["test-tools"])
    assert ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"] in commands


def test_a_missing_promtool_without_root_is_one_clear_line(infra, monkeypatch):
    monkeypatch.setattr(infra.shutil, "which",
                        lambda name: None if name == "promtool" else f"/usr/bin/{name}")
    monkeypatch.setattr(infra.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(infra.subprocess, "run", lambda *a, **kw: pytest.fail("ran a command"))
    with pytest.raises(SystemExit) as exited:
        infra.main(["test-tools"])
    message = str(exited.value)
    assert "\n" not in message
    assert "apt-get install --no-install-recommends prometheus" in message


def test_present_promtool_installs_nothing(infra, monkeypatch):
    monkeypatch.setattr(infra.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(infra.subprocess, "run", lambda *a, **kw: pytest.fail("ran a command"))
    infra.main(["test-tools"])
