"""Run one service process: `python -m services.plumbing.runner members`.

Monkey-patches first (nameko needs eventlet everywhere), logs JSON lines, serves /metrics,
stops cleanly on SIGTERM or Ctrl-C (in-flight workers finish, unacked events go back).
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must precede every other import)

import argparse  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from services import SERVICE_CLASSES  # noqa: E402

from . import config, logs  # noqa: E402
from .heap import settle_heap  # noqa: E402
from .topology import load_service_class  # noqa: E402

log = logging.getLogger(__name__)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run one service.")
    parser.add_argument("service", choices=sorted(SERVICE_CLASSES))
    args = parser.parse_args(argv)
    logs.configure(args.service)
    service_cls = load_service_class(SERVICE_CLASSES[args.service])
    runner = ServiceRunner(config.service_config(args.service))
    runner.add_service(service_cls)

    def shutdown(signum, _frame):
        log.info("stopping %s on signal %s", args.service, signum)
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    settle_heap()
    log.info("%s started", args.service)
    runner.wait()
    log.info("%s stopped", args.service)


if __name__ == "__main__":
    main()
