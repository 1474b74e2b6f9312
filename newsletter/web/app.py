"""The Starlette app: each page family adds its routes; static assets are served locally (no CDN).

Run it with `newsletter serve --host H --port P`, or alone with
`uvicorn --factory newsletter.web.app:app_from_environment`. A later page family (the staff UI, the
public unsubscribe pages) adds a module with `routes(services)` and one line to ROUTE_FAMILIES.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from newsletter import logs
from newsletter import services as services_module
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.events.sendgrid_webhook import MAX_BODY_BYTES as WEBHOOK_MAX_BYTES
from newsletter.services import Services
from newsletter.web import ops, public, site, staff, webhooks
from newsletter.web import reports as report_pages
from newsletter.web.errors import handle_database_error, handle_error
from newsletter.web.guards import BodyLimit, HostGuard, SecurityHeaders

STATIC_DIR = Path(__file__).resolve().parent / "static"
ROUTE_FAMILIES: Sequence[Callable[[Services], list[BaseRoute]]] = (
    public.routes,  # first: routes are tried in order and the one-click unsubscribe POST is the hot path
    webhooks.routes,
    ops.routes,
    report_pages.routes,
    staff.routes,
)


def create_app(services: Services, *, close_services: bool = False) -> Starlette:
    """The web app over `services`; with `close_services`, the engine is closed when the app stops."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_services:
                services.close()

    routes: list[BaseRoute] = [route for family in ROUTE_FAMILIES for route in family(services)]
    routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))
    metrics = ops.WebMetrics(services)
    middleware = [
        Middleware(ops.HttpLatency, metrics=metrics),
        Middleware(HostGuard, hosts=site.trusted_hosts(services.settings)),
        Middleware(BodyLimit, limit_for=body_limits(services.settings)),
    ]
    app = GuardedApp(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            NewsletterError: handle_error,
            OperationalError: handle_database_error,  # SQLite: no such table; unreachable
            ProgrammingError: handle_database_error,  # PostgreSQL: undefined table
        },
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.metrics = metrics
    return app


class GuardedApp(Starlette):
    """Starlette with the security headers outside everything, so even its own 500 page carries them."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def body_limits(settings: Settings) -> Callable[[str], int]:
    """The body-size limit of a path: the webhook's, the staff import's, other staff forms', public."""

    def limit_for(path: str) -> int:
        if path.startswith("/webhooks/"):
            return WEBHOOK_MAX_BYTES
        if path == "/admin/audience/import":
            return settings.max_import_body_bytes
        if path == "/admin" or path.startswith("/admin/"):
            return settings.max_staff_body_bytes
        return settings.max_public_body_bytes

    return limit_for


def app_from_environment() -> Starlette:
    """The app for the settings in the environment (uvicorn --factory); it owns its services."""
    services = services_module.build()
    logs.configure(services.settings.log_format)  # in each uvicorn worker process
    return create_app(services, close_services=True)
