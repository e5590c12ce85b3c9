"""Root conftest: eventlet must patch the standard library before anything else is imported
(plain pytest no longer does it for nameko). The browser tests (tests/browser) run in a process
of their own without it (LIUDONG_BROWSER_TESTS=1): Playwright's driver does not work on a
patched standard library, and they start the platform as separate processes anyway."""
import os

import eventlet

if os.environ.get("LIUDONG_BROWSER_TESTS") != "1":
    eventlet.monkey_patch()

import warnings  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

# Every platform a test starts is a throw-away one: members may use the built-in ID-number keys
# (the processes the end-to-end tests start inherit this).
os.environ.setdefault("LIUDONG_LOCAL_RUN", "1")

pytest_plugins = ["tests.fixtures"]
