"""What a batched subscriber's worker gets (see subscriber.py): several deliveries of one queue,
handled in one transaction when all go well, else one by one."""
import logging
import sys

from . import logs
from .db import UnitOfWork
from .envelope import ReceivedEvent

log = logging.getLogger(__name__)


class EventBatch:
    """Deliveries handed to one worker of a `batched` subscriber: (event, trace id) pairs."""

    def __init__(self, items: list[tuple[ReceivedEvent, str | None]]):
        self.items = items

    def __len__(self):
        return len(self.items)

    def run(self, service, handle, together: bool = False) -> list:
        """Handle every event (`together`: the handler takes them all in one list); returns,
        per event, None or the exc_info of its failure."""
        unit = getattr(service, "db", None)
        if len(self.items) > 1 and isinstance(unit, UnitOfWork):
            try:
                with unit.transaction() as tx, unit.joined(tx):
                    tx.event_batch = [event for event, _trace_id in self.items]
                    if together:
                        # one call for all: its log lines carry the first event's ids (each
                        # event still gets its own "done" line, from the worker's outcomes)
                        self._as_current(unit, *self.items[0], tx)
                        handle(service, tx.event_batch)
                    else:
                        for event, trace_id in self.items:
                            self._as_current(unit, event, trace_id, tx)
                            handle(service, event)
                return [None] * len(self.items)
            except Exception as exc:
                log.info("a batch of %d events failed together (%s: %s); handling them one by "
                         "one", len(self.items), type(exc).__name__, exc)
        outcomes = []
        for event, trace_id in self.items:
            self._as_current(unit, event, trace_id)
            try:
                handle(service, [event] if together else event)
                outcomes.append(None)
            except Exception:
                outcomes.append(sys.exc_info())
        return outcomes

    @staticmethod
    def _as_current(unit, event, trace_id, tx=None) -> None:
        """Log lines, and events the handler emits, carry this event's trace id."""
        logs.set_context(trace_id=trace_id, event_id=event.event_id)
        if isinstance(unit, UnitOfWork):
            unit.trace_id = trace_id
        if tx is not None:
            tx.trace_id = trace_id


def outcomes(worker_ctx, result, exc_info) -> list[tuple]:
    """What one worker's run came to, per event handled: [((event, trace id), exc_info or None)]
    for a batched subscriber's worker that returned; [(None, exc_info)] for any other worker
    (and for a batch whose worker failed as a whole). Metrics and the log context count and
    write one outcome each."""
    if exc_info is None and worker_ctx.args and isinstance(worker_ctx.args[0], EventBatch):
        return list(zip(worker_ctx.args[0].items, result, strict=True))
    return [(None, exc_info)]
