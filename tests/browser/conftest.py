"""The browser tests need a process whose standard library eventlet has not patched (see the
root conftest): `make test` runs them so, after the rest. In a patched run they are skipped."""
import eventlet.patcher
import pytest


def pytest_collection_modifyitems(config, items):
    if not eventlet.patcher.is_monkey_patched("socket"):
        return
    skip = pytest.mark.skip(reason="browser tests run in a process of their own: "
                                   "LIUDONG_BROWSER_TESTS=1 pytest tests/browser (make test does)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)
