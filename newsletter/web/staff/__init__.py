"""The staff web app under /admin/: issues and previews, sends, audience; every page needs a login."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.services import Services
from newsletter.web import auth
from newsletter.web.staff import account, audience, issues, login, sends, users


def routes(services: Services) -> list[BaseRoute]:
    """Login/logout and every staff page."""

    async def home(request: Request) -> Response:
        auth.require_staff(request)
        return RedirectResponse("/admin/issues", status_code=303)

    return [
        *login.routes(services),
        Route("/admin/", home, methods=["GET"], name="staff_home"),
        Route("/admin", home, methods=["GET"]),
        *issues.routes(services),
        *sends.routes(services),
        *audience.routes(services),
        *account.routes(services),
        *users.routes(services),
    ]
