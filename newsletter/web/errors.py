"""Domain errors at the web edge: a status code, and JSON for machine endpoints or a small HTML page."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsletter.errors import ConfigError, NewsletterError, NotFound, WebhookError
from newsletter.web.templating import templates

log = logging.getLogger("newsletter.web")
MACHINE_PATHS = ("/webhooks/",)


def status_of(exc: NewsletterError) -> int:
    """The HTTP status for a domain error."""
    if isinstance(exc, WebhookError):
        return exc.status
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, ConfigError):
        return 503
    return 400


async def handle_error(request: Request, exc: Exception) -> Response:
    """Answer a NewsletterError: JSON {"ok": false, "error", "status"} for webhooks, else an HTML page."""
    assert isinstance(exc, NewsletterError)
    status = status_of(exc)
    log.warning("%s %s refused (%d): %s", request.method, request.url.path, status, exc)
    if request.url.path.startswith(MACHINE_PATHS) or request.url.path.endswith((".json", ".csv")):
        return JSONResponse({"ok": False, "error": str(exc), "status": status}, status_code=status)
    context = {"status": status, "message": str(exc)}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)
