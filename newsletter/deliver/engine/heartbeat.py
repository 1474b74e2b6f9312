"""Workers' heartbeats: a live worker renews its heartbeat every interval, so its claims can be told from
those of a worker that died, on any host, within two intervals.

A heartbeat is a lease row named `worker:<identity>` (`worker_leases`) whose expiry a background thread
of the worker moves to two intervals ahead, every interval, on a connection of its own. A claim whose
holder's heartbeat has expired is stale (`claims.recover_stale`). A holder with no heartbeat row at all
(a test send from the web process, a worker from before heartbeats) is judged as before: by the age of
its claim, or by its process on this host.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.engine.claims import acquire_lease, heartbeat_name, release_lease

log = logging.getLogger("newsletter.worker")


class Heartbeat:
    """Beats for `worker_id` every `interval` seconds while entered (a daemon thread); stops and clears
    the heartbeat on exit."""

    def __init__(self, sessions: sessionmaker[Session], worker_id: str, interval: float) -> None:
        self._sessions = sessions
        self._name = heartbeat_name(worker_id)
        self._worker_id = worker_id
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._failing = False

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(self._interval + 5)
        try:
            with self._sessions.begin() as session:
                release_lease(session, self._name, self._worker_id)
        except Exception as failure:  # the database is away: the heartbeat runs out by itself
            log.warning("could not clear the heartbeat of %s: %s", self._worker_id, failure)

    def beat(self) -> None:
        """Move the heartbeat two intervals ahead (one log line when the database is away, one when back)."""
        try:
            with self._sessions.begin() as session:
                acquire_lease(session, self._name, self._worker_id, 2 * self._interval)
        except Exception as failure:
            if not self._failing:
                log.warning("heartbeat of %s missed: %s", self._worker_id, str(failure).splitlines()[0])
            self._failing = True
            return
        if self._failing:
            log.warning("heartbeat of %s beating again", self._worker_id)
        self._failing = False

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.beat()


__all__ = ["Heartbeat"]
