"""The collector is kept off the long-lived heap while sends run, and left as it was after the last one."""

from __future__ import annotations

import gc
import threading

from newsletter.deliver.engine.heap import SEND_GC_THRESHOLD, heap_frozen


def test_overlapping_runs_leave_the_collector_as_they_found_it() -> None:
    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with heap_frozen():
            first_in.set()
            second_in.wait(10)
            seen["frozen"] = gc.get_freeze_count() > 0
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with heap_frozen():
            second_in.set()
            first_out.wait(10)  # the first run has left: this one still runs with the heap frozen
            seen["still"] = (gc.get_freeze_count() > 0, gc.get_threshold()[0])

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert seen == {"frozen": True, "still": (True, max(before[0], SEND_GC_THRESHOLD))}
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
