"""The worker process: runs due and interrupted sends; APScheduler only wakes it, the database records all."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from newsletter.deliver.engine.heap import heap_frozen
from newsletter.deliver.engine.resilience import is_transient, retrying
from newsletter.deliver.engine.run import Progress, RunReport, SendRunner
from newsletter.schedule.sends import due_sends
from newsletter.schedule.wakeups import make_scheduler, started
from newsletter.services import Services

_wake_event = threading.Event()

ProgressFor = Callable[[int], Progress | None]
"""progress_for(send_id) -> a progress callback for that send, or None."""


class OneLineFormatter(logging.Formatter):
    """Log records as one line each: an exception's type and message instead of its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" ({type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''})"
        return line


def configure_logging() -> None:
    """Warnings and errors of the worker and the libraries it uses, to standard error, one line each."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def wake(send_id: int) -> None:
    """APScheduler job: a send is due; wake the worker loop (the loop decides what to run)."""
    _wake_event.set()


def run_due(
    services: Services,
    runner: SendRunner,
    progress_for: ProgressFor | None = None,
    *,
    wait_for_others: bool = False,
) -> list[RunReport]:
    """Run every due or interrupted send until none is left that this worker can advance.

    A send another worker holds (its lease, or claims) is left to it; with `wait_for_others` (`worker
    --once`) it is tried again every heartbeat interval until it is finished — by that worker, or by
    this one once that worker's heartbeat ran out and its claims were recovered. The collector is kept
    off the long-lived heap while a send runs (`heap_frozen`): in a worker process only.
    """
    return _run_due(services, runner, progress_for, wait_for_others)


def _run_due(
    services: Services, runner: SendRunner, progress_for: ProgressFor | None, wait_for_others: bool
) -> list[RunReport]:
    reports: list[RunReport] = []
    stuck: set[int] = set()
    while not runner.should_stop():

        def due_now() -> list[int]:
            with services.sessions() as session:
                return [send_id for send_id in due_sends(session) if send_id not in stuck]

        try:
            due = retrying("finding due sends", due_now, runner.backoff, give_up=runner.should_stop)
        except Exception as error:
            if is_transient(error):  # told to stop while the database was away
                return reports
            raise
        if not due and not (wait_for_others and stuck):
            return reports
        if not due:  # only sends others hold: look again after a heartbeat interval
            stuck.clear()
            if _wake_event.wait(runner.options.heartbeat_seconds):
                _wake_event.clear()
            continue
        for send_id in due:
            try:
                with heap_frozen():  # only while sending: freezing starts with a full collection
                    report = runner.run(send_id, progress_for(send_id) if progress_for else None)
            except Exception as error:  # told to stop while the database was away: what it held recovers
                if is_transient(error) and runner.should_stop():
                    return reports
                raise
            reports.append(report)
            if report.status in {"scheduled", "sending"} and not report.counts:
                stuck.add(send_id)  # held by another worker's lease or claims: leave it to them
            if runner.should_stop():
                break
    return reports


class Worker:
    """The long-running loop: wakes on APScheduler jobs or every `poll_seconds`, stops cleanly on SIGTERM."""

    def __init__(self, services: Services, runner: SendRunner, *, poll_seconds: float = 15.0) -> None:
        self.services = services
        self.runner = runner
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        runner.should_stop = self._stop.is_set

    def stop(self, *_: object) -> None:
        """Finish the batch in flight, then exit."""
        self._stop.set()
        _wake_event.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the worker after the batch in flight."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def serve(self, progress_for: ProgressFor | None = None) -> None:
        """Run until stopped (SIGTERM or `stop()`): due sends now, then when woken or polled.

        The runner (and the transports it holds) is closed when the loop ends.
        """
        scheduler = started(lambda: make_scheduler(self.services.engine))
        try:
            while not self._stop.is_set():
                _wake_event.clear()
                try:
                    run_due(self.services, self.runner, progress_for)
                except Exception as error:  # a database away longer than a run waits: wait, go on
                    if not is_transient(error):
                        raise
                    self.runner.backoff.wait("worker", error)
                    continue
                _wake_event.wait(self.poll_seconds)
        finally:
            scheduler.shutdown(wait=False)
            self.runner.close()
