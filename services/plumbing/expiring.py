"""What a process read from its database and may reuse for a moment: the members service's org
units, the other services' projected org paths (issue 13). One mechanism for both."""
import time


class ExpiringCache:
    """Values remembered for `seconds` (the bound within which a change made by another process
    is seen here) and forgotten at once by `clear()`, which the process's own writes call. A
    value read while a `clear()` happened may be the old one: it is returned but not stored.
    None (nothing found) is never stored: what appears a moment later must be found. At most
    `max_entries` values; when full, all are forgotten (they come back on the next reads)."""

    def __init__(self, seconds: float, max_entries: int = 10_000, clock=time.monotonic):
        self.seconds, self.max_entries, self.clock = seconds, max_entries, clock
        self._entries: dict = {}
        self._generation = 0

    def get(self, key, load, may_store: bool = True):
        """The value remembered for `key`, else `load()` (remembered unless `may_store` is
        False: e.g. read inside a transaction that changed it)."""
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        generation = self._generation
        value = load()
        if value is not None and may_store and generation == self._generation:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
