"""The worker process: runs due and interrupted sends; APScheduler only wakes it, the database records all.

With NEWSLETTER_WORKER_METRICS_PORT it serves its own Prometheus metrics (heartbeat, batches, recipients,
sends finished). Running until stopped it logs each send it ran, with the send's id (`--once` prints them).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from newsletter.deliver.engine.heap import heap_frozen
from newsletter.deliver.engine.resilience import is_transient, retrying
from newsletter.deliver.engine.run import Progress, RunReport, SendRunner
from newsletter.schedule.sends import due_sends
from newsletter.schedule.wakeups import make_scheduler, started
from newsletter.services import Services

_wake_event = threading.Event()
log = logging.getLogger("newsletter.worker")

ProgressFor = Callable[[int], Progress | None]
"""progress_for(send_id) -> a progress callback for that send, or None."""


def wake(send_id: int) -> None:
    """APScheduler job: a send is due; wake the worker loop (the loop decides what to run)."""
    _wake_event.set()


class WorkerMetrics:
    """This worker's Prometheus metrics, kept in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.heartbeat = Gauge(
            "newsletter_worker_heartbeat_timestamp_seconds",
            "When the worker loop last went round (or finished a batch).",
            registry=self.registry,
        )
        self.batches = Counter(
            "newsletter_worker_batches",
            "Batches this worker claimed, sent and marked.",
            registry=self.registry,
        )
        self.recipients = Counter(
            "newsletter_worker_recipients",
            "Recipients in the batches this worker settled.",
            registry=self.registry,
        )
        self.sends = Counter(
            "newsletter_worker_sends", "Sends this worker ran, by the state it left them in.", ["status"],
            registry=self.registry,
        )  # fmt: skip
        self.heartbeat.set_to_current_time()

    def observed(self, progress_for: ProgressFor | None) -> ProgressFor:
        """Progress callbacks that also count each marked batch and its recipients (and beat)."""
        done_before: dict[int, int] = {}

        def for_send(send_id: int) -> Progress:
            inner = progress_for(send_id) if progress_for else None

            def progress(done: int, total: int) -> None:
                self.heartbeat.set_to_current_time()
                self.batches.inc()
                self.recipients.inc(max(0, done - done_before.get(send_id, 0)))
                done_before[send_id] = done
                if inner is not None:
                    inner(done, total)

            return progress

        return for_send

    def serve(self, host: str, port: int) -> Callable[[], None]:
        """Serve /metrics on host:port in a thread; returns the function that stops it."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return stop


def run_due(
    services: Services,
    runner: SendRunner,
    progress_for: ProgressFor | None = None,
    metrics: WorkerMetrics | None = None,
    *,
    wait_for_others: bool = False,
) -> list[RunReport]:
    """Run every due or interrupted send until none is left that this worker can advance.

    A send another worker holds (its lease, or claims) is left to it; with `wait_for_others` (`worker
    --once`) it is tried again every heartbeat interval until it is finished — by that worker, or by
    this one once that worker's heartbeat ran out and its claims were recovered. The collector is kept
    off the long-lived heap while a send runs (`heap_frozen`): in a worker process only.
    """
    reports: list[RunReport] = []
    stuck: set[int] = set()
    if metrics is not None:
        progress_for = metrics.observed(progress_for)
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
            if metrics is not None:
                metrics.sends.labels(report.status or "unknown").inc()
            if report.status in {"scheduled", "sending"} and not report.counts:
                stuck.add(send_id)  # held by another worker's lease or claims: leave it to them
            if runner.should_stop():
                break
    return reports


def _log_report(report: RunReport) -> None:
    counts = ", ".join(f"{n} {state}" for state, n in sorted(report.counts.items())) or "nothing sent"
    fields: dict[str, Any] = {"send_id": report.send_id, "status": report.status, "counts": report.counts}
    if report.error:
        log.warning("send %d %s: %s", report.send_id, report.status, report.error, extra=fields)
    else:
        log.info("send %d %s (%s)", report.send_id, report.status, counts, extra=fields)


class Worker:
    """The long-running loop: wakes on APScheduler jobs or every `poll_seconds`, stops cleanly on SIGTERM."""

    def __init__(self, services: Services, runner: SendRunner, *, poll_seconds: float = 15.0) -> None:
        self.services = services
        self.runner = runner
        self.poll_seconds = poll_seconds
        self.metrics = WorkerMetrics()
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

        The runner (and the transports it holds) is closed when the loop ends, and the metrics server.
        """
        settings = self.services.settings
        stop_metrics = None
        if settings.worker_metrics_port is not None:
            stop_metrics = self.metrics.serve(settings.worker_metrics_host, settings.worker_metrics_port)
            log.info(
                "metrics on http://%s:%d/metrics", settings.worker_metrics_host, settings.worker_metrics_port
            )
        scheduler = started(lambda: make_scheduler(self.services.engine))
        try:
            while not self._stop.is_set():
                _wake_event.clear()
                self.metrics.heartbeat.set_to_current_time()
                try:
                    reports = run_due(self.services, self.runner, progress_for, self.metrics)
                except Exception as error:  # a database away longer than a run waits: wait, go on
                    if not is_transient(error):
                        raise
                    self.runner.backoff.wait("worker", error)
                    continue
                for report in reports:
                    _log_report(report)
                _wake_event.wait(self.poll_seconds)
        finally:
            scheduler.shutdown(wait=False)
            self.runner.close()
            if stop_metrics is not None:
                stop_metrics()
