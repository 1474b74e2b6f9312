"""Login, the second-factor step and logout under /admin/ (over staff.login and staff.sessions).

The login page sets a pre-session cookie holding a random value; its form's token is an HMAC of that
value, so a form posted from another site (or to another browser) is refused, as is a foreign Origin.
A right password for an account with a second factor leads to the code page, carried by a signed cookie
valid five minutes. Signing in opens a server-side session; logging out deletes it.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.db.audit import Action, record
from newsletter.services import Services
from newsletter.staff.login import Client, LoginLimits, LoginResult, code_step, password_step
from newsletter.staff.sessions import end_session, purge_expired
from newsletter.web import auth
from newsletter.web.templating import templates

LOGIN_COOKIE = "newsletter_login"
PENDING_COOKIE = "newsletter_login_code"
LOGIN_PATH = "/admin/login"
CODE_PATH = "/admin/login/code"
PENDING_MAX_AGE = 300
LOGIN_COOKIE_MAX_AGE = 3600


def _pending_signer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.require_secret_key(), salt="newsletter.login-code")


def _client(request: Request) -> Client:
    return Client(auth.client_address(request), request.headers.get("user-agent", "")[:300])


def routes(services: Services) -> list[BaseRoute]:
    """GET/POST /admin/login, GET/POST /admin/login/code and POST /admin/logout."""
    settings = services.settings
    limits = LoginLimits(settings.login_failures_per_account, settings.login_failures_per_ip)

    def form_page(request: Request, name: str, error: str = "", status: int = 200, **extra: str) -> Response:
        value = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        context = {
            "login_token": auth.keyed(request, "login", value),
            "error": error,
            "next": request.query_params.get("next", "") or extra.get("next", ""),
        }
        response = templates.TemplateResponse(request, name, context, status_code=status)
        if LOGIN_COOKIE not in request.cookies:
            auth.set_cookie(
                request, response, LOGIN_COOKIE, value, max_age=LOGIN_COOKIE_MAX_AGE, path=LOGIN_PATH
            )
        return response

    async def checked_login_form(request: Request) -> FormData:
        auth.check_origin(request)
        form = await request.form()
        value = request.cookies.get(LOGIN_COOKIE, "")
        sent = str(form.get(auth.CSRF_FIELD, ""))
        if not value or not secrets.compare_digest(sent, auth.keyed(request, "login", value)):
            raise HTTPException(403, "This form has expired; reload the page and try again.")
        return form

    def refused(request: Request, name: str, result: LoginResult, next_page: str) -> Response:
        if result.wait_seconds:
            message = f"Too many failed attempts; try again in {result.wait_seconds} seconds."
            response = form_page(request, name, message, 429, next=next_page)
            response.headers["Retry-After"] = str(result.wait_seconds)
            return response
        message = (
            "That code is not right." if name.endswith("login_code.html") else "Wrong email or password."
        )
        return form_page(request, name, message, 400, next=next_page)

    def signed_in(request: Request, result: LoginResult, next_page: str) -> Response:
        response = RedirectResponse(auth.safe_next(next_page), status_code=303)
        max_age = settings.session_max_hours * 3600
        auth.set_cookie(request, response, auth.SESSION_COOKIE, result.token, max_age=max_age, path="/")
        auth.delete_cookie(request, response, LOGIN_COOKIE, path=LOGIN_PATH)
        auth.delete_cookie(request, response, PENDING_COOKIE, path=LOGIN_PATH)
        return response

    def purge() -> None:
        with services.sessions() as session:
            purge_expired(session, auth.timeouts(services))

    async def login_page(request: Request) -> Response:
        return form_page(request, "staff/login.html")

    async def login_post(request: Request) -> Response:
        form = await checked_login_form(request)
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        next_page = str(form.get("next", ""))

        def attempt() -> LoginResult:
            with services.sessions() as session:
                return password_step(session, email, password, _client(request), limits)

        result = await run_in_threadpool(attempt)
        if result.staff is not None:
            await run_in_threadpool(purge)
            return signed_in(request, result, next_page)
        if result.pending_id is None:
            return refused(request, "staff/login.html", result, next_page)
        target = f"{CODE_PATH}?{urlencode({'next': next_page})}" if next_page else CODE_PATH
        response = RedirectResponse(target, status_code=303)
        pending = _pending_signer(services).dumps({"u": result.pending_id})
        auth.set_cookie(request, response, PENDING_COOKIE, pending, max_age=PENDING_MAX_AGE, path=LOGIN_PATH)
        return response

    def pending_id(request: Request) -> int | None:
        try:
            data = _pending_signer(services).loads(
                request.cookies.get(PENDING_COOKIE, ""), max_age=PENDING_MAX_AGE
            )
        except BadSignature:
            return None
        return data.get("u") if isinstance(data, dict) and isinstance(data.get("u"), int) else None

    async def code_page(request: Request) -> Response:
        if pending_id(request) is None:
            return RedirectResponse(LOGIN_PATH, status_code=303)
        return form_page(request, "staff/login_code.html")

    async def code_post(request: Request) -> Response:
        form = await checked_login_form(request)
        staff_id, next_page = pending_id(request), str(form.get("next", ""))
        if staff_id is None:
            return form_page(request, "staff/login.html", "That took too long; sign in again.", 400)

        def attempt() -> LoginResult:
            with services.sessions() as session:
                return code_step(session, staff_id, str(form.get("code", "")), _client(request), limits)

        result = await run_in_threadpool(attempt)
        if result.staff is not None:
            return signed_in(request, result, next_page)
        return refused(request, "staff/login_code.html", result, next_page)

    async def logout(request: Request) -> Response:
        await auth.checked_form(request)
        who = auth.actor(request)
        with services.sessions() as session:
            end_session(session, request.cookies.get(auth.SESSION_COOKIE, ""))
            record(session, who, Action.LOGOUT, who.name)
            session.commit()
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        auth.delete_cookie(request, response, auth.SESSION_COOKIE, path="/")
        return response

    return [
        Route(LOGIN_PATH, login_page, methods=["GET"], name="staff_login"),
        Route(LOGIN_PATH, login_post, methods=["POST"]),
        Route(CODE_PATH, code_page, methods=["GET"]),
        Route(CODE_PATH, code_post, methods=["POST"]),
        Route("/admin/logout", logout, methods=["POST"], name="staff_logout"),
    ]
