"""Keeping the cycle collector off the long-lived heap while a worker process runs sends (`heap_frozen`).

Used by the worker only (`worker.run_due`), never by the web process: freezing is process-wide.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

SEND_GC_THRESHOLD = 10_000
"""Allocations between young-generation collections while a send runs (Python's default: 700)."""


class _Freezer:
    """Counts the runs inside `frozen()`: the first one in freezes, the last one out thaws."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._thresholds: tuple[int, int, int] = gc.get_threshold()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        with self._lock:
            if self._runs == 0:
                gc.collect()
                gc.freeze()
                self._thresholds = gc.get_threshold()
                gc.set_threshold(max(self._thresholds[0], SEND_GC_THRESHOLD), *self._thresholds[1:])
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if self._runs == 0:
                    gc.set_threshold(*self._thresholds)
                    gc.unfreeze()


_FREEZER = _Freezer()


def heap_frozen() -> AbstractContextManager[None]:
    """Keep the cycle collector off what outlives the batches (ORM state, the rendered issue, modules).

    Each batch makes some ten thousand short-lived dicts and lists, so collections come often, and
    each full one walked the whole long-lived heap: a fifth of a send's time. The first run in collects
    once, freezes what is left (`gc.freeze`) and collects the young less often; the last run out puts
    everything back as it was. Process-wide: only the worker process (`worker.run_due`) uses it.
    """
    return _FREEZER.frozen()
