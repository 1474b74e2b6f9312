"""POST /webhooks/sendgrid: read a capped raw body, verify SendGrid's signature, parse, store once."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.errors import WebhookError
from newsletter.events.ingest import IngestResult, ingest
from newsletter.events.sendgrid_webhook import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Event,
    SignatureVerifier,
    parse_events,
)
from newsletter.services import Services

PATH = "/webhooks/sendgrid"
NOTABLE = frozenset({"hard_bounce", "blocked", "dropped", "spamreport"})
"""Event kinds logged one line each (with their send and delivery ids); the rest are counted."""
log = logging.getLogger("newsletter.webhooks")


def routes(services: Services) -> list[BaseRoute]:
    """The webhook route; its public key (SENDGRID_WEBHOOK_PUBLIC_KEY) is read once, here."""
    key = services.settings.sendgrid_webhook_public_key
    verifier = SignatureVerifier(key) if key else None

    def store(events: list[Event]) -> IngestResult:
        with services.sessions() as session, session.begin():
            return ingest(session, events)

    async def sendgrid_webhook(request: Request) -> Response:
        metrics = request.app.state.metrics
        try:
            if verifier is None:
                raise WebhookError("SENDGRID_WEBHOOK_PUBLIC_KEY is not set", status=503)
            body = await read_body(request, MAX_BODY_BYTES)
            verifier.verify(
                body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
            )
            events = parse_events(body)
            result = await run_in_threadpool(store, events)
        except WebhookError as exc:
            metrics.webhook_posts.labels(str(exc.status)).inc()
            raise
        metrics.webhook_posts.labels("accepted").inc()
        metrics.webhook_events.labels("stored").inc(result.stored)
        metrics.webhook_events.labels("duplicate").inc(result.duplicates)
        _log_events(events, result)
        return JSONResponse(
            {
                "ok": True,
                "received": result.received,
                "stored": result.stored,
                "duplicates": result.duplicates,
            }
        )

    return [Route(PATH, sendgrid_webhook, methods=["POST"], name="sendgrid_webhook")]


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WebhookError(f"body over {limit} bytes", status=413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookError(f"body over {limit} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _log_events(events: list[Event], result: IngestResult) -> None:
    """One line per webhook post, and one per bounce, drop or spam report (with its send and delivery)."""
    log.info(
        "webhook: %d events, %d stored, %d duplicates, %d suppressed",
        result.received, result.stored, result.duplicates, result.suppressed,
        extra={"events": result.received, "stored": result.stored, "duplicates": result.duplicates},
    )  # fmt: skip
    for event in events:
        if event.kind in NOTABLE:
            log.info(
                "event %s: send %s, delivery %s", event.kind, event.send_id, event.delivery_id,
                extra={"event": event.kind, "send_id": event.send_id, "delivery_id": event.delivery_id},
            )  # fmt: skip
