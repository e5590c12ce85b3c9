"""Structured logs: one JSON object per line, carrying the trace id and event id of the worker
that wrote it. The gateway makes the trace id (X-Request-Id); RPC context and event headers
carry it."""
import json
import logging
import sys
import threading
import time

# Greenlet-local once eventlet has monkey-patched threading (every process here does).
_current = threading.local()


def set_context(**values):
    for key, value in values.items():
        setattr(_current, key, value)


def current(key: str):
    return getattr(_current, key, None)


# Each context value by the field it is written as: the trace id keeps the field name
# `request_id` that dashboards and the runbooks (deploy/README.md) search for.
CONTEXT_FIELDS = {"trace_id": "request_id", "event_id": "event_id", "entrypoint": "entrypoint",
                  "service": "service"}


# One encoder for every line: json.dumps with options builds a new one each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                  + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, name in CONTEXT_FIELDS.items():
            value = current(key)
            if value is not None:
                line[name] = value
        for key, value in getattr(record, "fields", {}).items():
            line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


def configure(process: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # A line names no thread or process: not gathering them for every record saves about half
    # of a line's CPU (under eventlet, threading.current_thread() alone costs ~20 µs; issue 13).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # nameko logs every worker's set-up at DEBUG and expected errors with tracebacks at WARNING;
    # our own entrypoint log line says the same thing once.
    logging.getLogger("nameko").setLevel(logging.ERROR)
    logging.getLogger("amqp").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.WARNING)
    set_context(service=process)


def log_fields(logger: logging.Logger, level: int, message: str, **fields):
    logger.log(level, message, extra={"fields": fields})
