"""The start-up heap of a long-running process (a service, the gateway)."""
import gc


def settle_heap() -> None:
    """Once started: every object alive now (modules, classes, schemas, SQLAlchemy's mappers
    and compiled statements) leaves the garbage collector's generations, so that a full
    collection under load walks only what requests create, not the whole start-up heap
    (issue 13: those pauses were part of the latency tail)."""
    gc.collect()
    gc.freeze()
