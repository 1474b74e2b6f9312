"""POST /webhooks/sendgrid: read a capped raw body, verify SendGrid's signature, parse, store once."""

from __future__ import annotations

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


def routes(services: Services) -> list[BaseRoute]:
    """The webhook route; its public key (SENDGRID_WEBHOOK_PUBLIC_KEY) is read once, here."""
    key = services.settings.sendgrid_webhook_public_key
    verifier = SignatureVerifier(key) if key else None

    def store(events: list[Event]) -> IngestResult:
        with services.sessions() as session, session.begin():
            return ingest(session, events)

    async def sendgrid_webhook(request: Request) -> Response:
        if verifier is None:
            raise WebhookError("SENDGRID_WEBHOOK_PUBLIC_KEY is not set", status=503)
        body = await read_body(request, MAX_BODY_BYTES)
        verifier.verify(body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER))
        result = await run_in_threadpool(store, parse_events(body))
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
