"""Domain errors at the web edge, for every page family: a status code, and JSON or a small HTML page.

Machine endpoints (webhooks, `.json`/`.csv` reports) get `{"ok": false, "error", "status"}`; staff pages
under `/admin` the staff error page; public pages a friendly page in the readers' layout.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsletter.errors import ConfigError, InvalidToken, NewsletterError, NotFound, Suppressed, WebhookError
from newsletter.web.templating import templates

log = logging.getLogger("newsletter.web")
MACHINE_PATHS = ("/webhooks/",)
MACHINE_SUFFIXES = (".json", ".csv")
STAFF_PATHS = ("/admin",)

PUBLIC_TITLES: tuple[tuple[type[NewsletterError], str], ...] = (
    (InvalidToken, "This link is not valid"),
    (NotFound, "Not found"),
    (Suppressed, "We cannot do that"),
    (ConfigError, "Not available right now"),
)
"""The heading a reader sees for an error, first match wins; any other: "Something went wrong"."""


def status_of(exc: NewsletterError) -> int:
    """The HTTP status for a domain error."""
    if isinstance(exc, WebhookError):
        return exc.status
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Suppressed):
        return 409
    if isinstance(exc, ConfigError):
        return 503
    return 400


def public_title(exc: NewsletterError) -> str:
    """The heading of a public error page."""
    return next((title for kind, title in PUBLIC_TITLES if isinstance(exc, kind)), "Something went wrong")


async def handle_database_error(request: Request, exc: Exception) -> Response:
    """A database the app cannot use (never migrated, unreachable): 503 with the one sentence that says
    why, as the CLI would; any other database error stays a 500."""
    problem = await run_in_threadpool(request.app.state.services.database_problem)
    if problem is None:
        raise exc
    return await handle_error(request, ConfigError(problem))


async def handle_error(request: Request, exc: Exception) -> Response:
    """Answer a NewsletterError as JSON (machine endpoints), the staff error page, or a public page."""
    assert isinstance(exc, NewsletterError)
    status = status_of(exc)
    path = request.url.path
    log.warning("%s %s refused (%d): %s", request.method, path, status, exc)
    if path.startswith(MACHINE_PATHS) or path.endswith(MACHINE_SUFFIXES):
        return JSONResponse({"ok": False, "error": str(exc), "status": status}, status_code=status)
    if path.startswith(STAFF_PATHS):
        context = {"status": status, "message": str(exc)}
        return templates.TemplateResponse(request, "error.html", context, status_code=status)
    context = {"title": public_title(exc), "message": str(exc)}
    return templates.TemplateResponse(request, "public/message.html", context, status_code=status)
