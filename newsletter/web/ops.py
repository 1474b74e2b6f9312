"""Operations endpoints: `GET /healthz` (the process answers), `GET /readyz` (database reachable and at this
version's revision, webhook key set when sending through SendGrid) and Prometheus metrics at `/metrics`
(a bearer token, NEWSLETTER_METRICS_TOKEN; none set: no metrics), with the HTTP latency middleware."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.reports.operations import operations
from newsletter.services import Services


class WebMetrics:
    """The web app's Prometheus registry: request latency, webhook posts and events, and the database's
    counts read at each scrape."""

    def __init__(self, services: Services) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "newsletter_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.webhook_posts = Counter(
            "newsletter_webhook_posts",
            "Event webhook requests by outcome (accepted, or the refusal's HTTP status).",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_events = Counter(
            "newsletter_webhook_events",
            "Events in accepted webhook requests: stored, or duplicates of events already stored.",
            ["outcome"],
            registry=self.registry,
        )
        self.registry.register(_DatabaseCollector(services))

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format (reads the database)."""
        return generate_latest(self.registry)


class _DatabaseCollector(Collector):
    """Gauges read from the database at scrape time (`reports.operations`)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def describe(self) -> list[Metric]:
        return []  # collected only when scraped: registering must not touch the database

    def collect(self) -> Iterator[Metric]:
        with self.services.sessions() as session:
            seen = operations(session)
        yield _family("newsletter_sends", "Sends by state.", "state", seen.sends)
        yield _family(
            "newsletter_deliveries", "Delivery rows by status (all sends).", "status", seen.deliveries
        )
        yield _family("newsletter_batches", "Delivery batches by state.", "state", seen.batches)
        held = GaugeMetricFamily(
            "newsletter_worker_held_batches", "Batches a worker holds.", labels=["worker"]
        )
        claimed = GaugeMetricFamily(
            "newsletter_worker_last_claim_timestamp_seconds",
            "When a worker last claimed a batch it still holds (its heartbeat, as the database sees it).",
            labels=["worker"],
        )
        for worker in seen.workers:
            held.add_metric([worker.worker], worker.batches)
            if worker.last_claim is not None:
                claimed.add_metric([worker.worker], worker.last_claim.timestamp())
        rows = GaugeMetricFamily(
            "newsletter_send_deliveries",
            "Delivery rows of a send in flight, by status.",
            labels=["send", "status"],
        )
        speed = GaugeMetricFamily(
            "newsletter_send_recipients_per_second",
            "Recipients settled per second since a send in flight started.",
            labels=["send"],
        )
        for send in seen.in_flight:
            for status, n in sorted(send.counts.items()):
                rows.add_metric([str(send.send_id), status], n)
            speed.add_metric([str(send.send_id)], send.per_second)
        yield from (held, claimed, rows, speed)


def _family(name: str, documentation: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class HttpLatency:
    """ASGI middleware timing each HTTP request, labelled by the route template that answered it."""

    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            labels = (route, scope["method"], str(status))
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)


def routes(services: Services) -> list[BaseRoute]:
    """/healthz, /readyz and /metrics."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_request: Request) -> Response:
        checks = await run_in_threadpool(readiness, services)
        ok = all(value == "ok" or value == "not needed" for value in checks.values())
        return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)

    async def metrics(request: Request) -> Response:
        token = services.settings.metrics_token
        if token is None or not token.get_secret_value():
            return PlainTextResponse("metrics are off: set NEWSLETTER_METRICS_TOKEN\n", status_code=404)
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            headers = {"WWW-Authenticate": "Bearer"}
            return PlainTextResponse("a bearer token is needed\n", status_code=401, headers=headers)
        body = await run_in_threadpool(request.app.state.metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
        Route("/metrics", metrics, methods=["GET"], name="metrics"),
    ]


def readiness(services: Services) -> dict[str, str]:
    """Each readiness check: "ok", "not needed", or the one-line reason it fails."""
    settings = services.settings
    key_needed = settings.transport == "sendgrid"
    key_set = bool(settings.sendgrid_webhook_public_key)
    return {
        "database": services.database_problem() or "ok",
        "webhook_key": (
            "not needed"
            if not key_needed
            else "ok"
            if key_set
            else "SENDGRID_WEBHOOK_PUBLIC_KEY is not set: SendGrid's events would be refused"
        ),
    }
