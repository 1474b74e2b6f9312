"""Surviving the database: transient errors (connection lost, server restarting, SQLite busy or locked)
are waited out with backoff, one log line each, instead of ending the worker.

`RenewableLine` is the claim line the send loop uses: a round that fails on such an error is submitted
again on a fresh line until it lands. Its writes are safe to repeat (marks and skips touch only rows
still pending and count what they moved; settling and the hand-over of the batch this worker holds are
idempotent), so a batch that was sent is always marked as it was answered, never left to become unknown.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import psycopg
from sqlalchemy import exc as sa_exc

from newsletter.deliver.engine.line import ClaimLine, Collected
from newsletter.deliver.engine.marks import BatchMarks, Write

log = logging.getLogger("newsletter.worker")
T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """True for database errors that pass: a lost or refused connection, a restarting server, a busy or
    locked SQLite file. Not for mistakes (a missing table, a violated constraint)."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return "locked" in text or "busy" in text
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


@dataclass
class Backoff:
    """Waits growing from `first` to `most` seconds between tries; `reset()` after a success."""

    first: float = 0.5
    most: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    _next: float = field(default=0.0, init=False)

    def wait(self, what: str, error: BaseException) -> None:
        """Log one line naming the error, then wait."""
        delay = self._next = min(self.most, self._next * 2 if self._next else self.first)
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        log.warning(
            "%s: database unavailable (%s: %s); trying again in %.1f s",
            what,
            type(error).__name__,
            reason[0] if reason else "",
            delay,
        )
        self.sleep(delay)

    def reset(self) -> None:
        """The next wait starts from `first` again."""
        self._next = 0.0


def retrying(what: str, action: Callable[[], T], backoff: Backoff, *, give_up: Callable[[], bool]) -> T:
    """`action()`, tried again after each transient database error until it succeeds (or `give_up()`
    says to stop: then the error is raised)."""
    while True:
        try:
            result = action()
        except Exception as error:
            if not is_transient(error) or give_up():
                raise
            backoff.wait(what, error)
            continue
        backoff.reset()
        return result


class RenewableLine:
    """A claim line that, after a transient database error, opens a fresh one and runs the round again."""

    def __init__(self, open_line: Callable[[], ClaimLine], backoff: Backoff, what: str) -> None:
        self._open = open_line
        self._backoff = backoff
        self._what = what
        self._line: ClaimLine | None = None

    def __enter__(self) -> RenewableLine:
        self._line = retrying(self._what, lambda: self._open().__enter__(), self._backoff, give_up=never)
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def round(
        self,
        marks: BatchMarks | None,
        writes: Sequence[Write],
        *,
        hand_over: int | None,
        claim: bool,
        now: datetime,
        meanwhile: Callable[[], T],
        give_up: Callable[[], bool],
    ) -> tuple[Collected, T | None]:
        """Submit the round, run `meanwhile()` (once) while it runs, collect it. A round holding marks is
        tried until it lands; one without gives up when `give_up()` says so (the error is raised)."""
        made: list[T] = []
        while True:
            try:
                line = self._current()
                line.submit(marks, writes, hand_over=hand_over, claim=claim, now=now)
                if not made:
                    made.append(meanwhile())
                answer = line.collect()
            except Exception as error:
                if not is_transient(error) or (marks is None and give_up()):
                    raise
                self._backoff.wait(self._what, error)
                self._close()
                continue
            self._backoff.reset()
            return answer, made[0] if made else None

    def release(self) -> None:
        """Give back the batches claimed ahead (tried until it lands)."""

        def release() -> None:
            self._current().release()

        def reopen_and_release() -> None:
            try:
                release()
            except Exception:
                self._close()
                raise

        retrying(self._what, reopen_and_release, self._backoff, give_up=never)

    def _current(self) -> ClaimLine:
        if self._line is None:
            self._line = self._open().__enter__()
        return self._line

    def _close(self) -> None:
        line, self._line = self._line, None
        if line is None:
            return
        try:
            line.__exit__(None, None, None)
        except Exception as error:  # the database is gone: what it held is recovered later
            if not is_transient(error):
                raise


def never() -> bool:
    """A `give_up` that never does: for writes that must land."""
    return False
