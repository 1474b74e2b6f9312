"""Writing one import chunk on a helper thread while the next is read and decided: never more than one ahead.

The helper mostly waits for the database (psycopg releases the GIL while it waits), so Python
work on the next chunk and the server's work on this one overlap; on two cores that is most of
the difference between their sum and the larger of the two.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")


class OneAhead:
    """Runs submitted calls one at a time, on a helper thread when `background`, else at once.

    `submit` first waits for the previous call and raises its exception, so a failed write stops
    the import at the next chunk; leaving the block waits for the last call.
    """

    def __init__(self, *, background: bool) -> None:
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") if background else None
        )
        self._pending: Future[None] | None = None

    def __enter__(self) -> OneAhead:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.wait()
            elif self._pending is not None:
                self._pending.exception()  # let it finish; the exception in flight is the one to report
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)

    def submit(self, call: Callable[[T], None], argument: T) -> None:
        """Wait for the previous call, then start this one."""
        self.wait()
        if self._executor is None:
            call(argument)
        else:
            self._pending = self._executor.submit(call, argument)

    def wait(self) -> None:
        """Wait for the call in flight, raising its exception if it failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
