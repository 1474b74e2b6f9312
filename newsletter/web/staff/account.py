"""A staff member's own account under /admin/account: change the password, set up the second factor.

Setting up TOTP shows the QR code once (drawn on the server, no CDN), then asks for a code from the app;
only then is it on, and the ten recovery codes are shown, once. When an admin requires a second factor,
an account without one is sent here before any other page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.services import Services
from newsletter.staff import accounts, totp
from newsletter.web import auth

PATH = auth.ACCOUNT_PATH


def routes(services: Services) -> list[BaseRoute]:
    """GET /admin/account, POST .../password, GET/POST .../totp, POST .../totp/start."""

    def overview(request: Request, message: str = "", error: str = "", status: int = 200) -> Response:
        staff = auth.require_role(request, second_factor_set_up=False)
        with services.sessions() as session:
            left = totp.recovery_codes_left(session, staff.id)
            required = totp.totp_required(session)
        context = {"codes_left": left, "required": required, "message": message, "error": error}
        return auth.page(request, "staff/account.html", context, status)

    async def account_page(request: Request) -> Response:
        return overview(request)

    async def change_password(request: Request) -> Response:
        staff = auth.require_role(request, second_factor_set_up=False)
        form = await auth.checked_form(request)
        current, new = str(form.get("current", "")), str(form.get("new", ""))
        if new != str(form.get("again", "")):
            return overview(request, error="The two new passwords differ.", status=400)
        with services.sessions() as session:
            try:
                accounts.change_own_password(session, staff.id, current, new, by=auth.actor(request))
            except accounts.StaffError as exc:
                return overview(request, error=str(exc), status=400)
        return RedirectResponse("/admin/login", status_code=303)  # every session ended, this one too

    async def totp_page(request: Request) -> Response:
        staff = auth.require_role(request, second_factor_set_up=False)
        with services.sessions() as session:
            required = totp.totp_required(session)
        context = {"setup": None, "error": "", "required": required and not staff.has_totp}
        return auth.page(request, "staff/account_totp.html", context)

    async def totp_start(request: Request) -> Response:
        staff = auth.require_role(request, second_factor_set_up=False)
        await auth.checked_form(request)
        with services.sessions() as session:
            setup = totp.begin_setup(session, staff.id)
        return auth.page(request, "staff/account_totp.html", {"setup": setup, "error": "", "required": False})

    async def totp_confirm(request: Request) -> Response:
        staff = auth.require_role(request, second_factor_set_up=False)
        form = await auth.checked_form(request)
        with services.sessions() as session:
            try:
                codes = totp.confirm_setup(
                    session, staff.id, str(form.get("code", "")), by=auth.actor(request)
                )
            except accounts.StaffError as exc:
                context = {"setup": None, "error": f"{exc}. Start again.", "required": False}
                return auth.page(request, "staff/account_totp.html", context, 400)
        return auth.page(request, "staff/account_codes.html", {"codes": codes})

    return [
        Route(PATH, account_page, methods=["GET"], name="staff_account"),
        Route(PATH + "/password", change_password, methods=["POST"]),
        Route(PATH + "/totp", totp_page, methods=["GET"]),
        Route(PATH + "/totp/start", totp_start, methods=["POST"]),
        Route(PATH + "/totp", totp_confirm, methods=["POST"]),
    ]
