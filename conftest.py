"""Root conftest: eventlet must patch the standard library before anything else is imported
(plain pytest no longer does it for nameko)."""
import eventlet

eventlet.monkey_patch()

import warnings  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

pytest_plugins = ["tests.fixtures"]
