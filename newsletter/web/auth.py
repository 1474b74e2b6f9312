"""Staff sign-in: a signed session cookie, CSRF tokens on every staff form, roles, rate limits.

The session is one signed cookie (itsdangerous, the product's secret key) holding the account id and
a per-session CSRF secret; the account and its role are read again on every request. Only the login
page sets it, so public pages never set cookies. Cookies are HttpOnly and SameSite=Lax, and Secure
except on plain http to a loopback address (tests, a laptop).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.services import Services
from newsletter.staff import STAFF_ROLES, Staff, authenticate, get_user
from newsletter.web.templating import templates

SESSION_COOKIE = "newsletter_staff"
SESSION_MAX_AGE = 12 * 3600
LOGIN_FORM_MAX_AGE = 3600
CSRF_FIELD = "csrf_token"
_STAFF_KEY = "newsletter.staff"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

EVERYONE = STAFF_ROLES
SCHEDULERS = ("publisher", "admin")
OPERATORS = ("publisher", "operations", "admin")
TESTERS = ("editor", "publisher", "admin")
AUDIENCE_EDITORS = ("operations", "admin")


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key (a client address); thread-safe."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one hit for `key`; False when it is over the limit (the hit is not counted then)."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


def client_address(request: Request) -> str:
    """The address the request came from (the rate-limit key)."""
    return request.client.host if request.client else "unknown"


def _serializer(request: Request, purpose: str) -> URLSafeTimedSerializer:
    services: Services = request.app.state.services
    return URLSafeTimedSerializer(services.settings.require_secret_key(), salt=f"newsletter.{purpose}")


def _session(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request, "staff-session").loads(raw, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def current_staff(request: Request) -> Staff | None:
    """The signed-in account of this request, or None."""
    if _STAFF_KEY in request.scope:
        found: Staff | None = request.scope[_STAFF_KEY]
        return found
    data = _session(request)
    staff = None
    if data is not None and isinstance(data.get("u"), int):
        services: Services = request.app.state.services
        with services.sessions() as session:
            staff = get_user(session, data["u"])
    request.scope[_STAFF_KEY] = staff
    return staff


def login_redirect(request: Request) -> HTTPException:
    """An exception answering 303 to the login page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(303, headers={"Location": f"/admin/login?next={quote(target, safe='')}"})


def require_role(request: Request, *roles: str) -> Staff:
    """The signed-in account if its role is one of `roles`; else a redirect to login, or 403."""
    staff = current_staff(request)
    if staff is None:
        raise login_redirect(request)
    if roles and staff.role not in roles:
        raise HTTPException(403, f"Your role ({staff.role}) may not do this.")
    return staff


def require_staff(request: Request) -> Staff:
    """Any signed-in staff member (report pages call this first)."""
    return require_role(request, *EVERYONE)


def csrf_token(request: Request) -> str:
    """The CSRF token to put in this session's forms."""
    data = _session(request)
    return str(data.get("c", "")) if data else ""


async def checked_form(request: Request) -> FormData:
    """The posted form, refused with 403 unless it carries this session's CSRF token."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = csrf_token(request)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "This form is missing its security token; reload the page and try again.")
    return form


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A staff template with the account and CSRF token in its context."""
    full = {"staff": current_staff(request), "csrf_token": csrf_token(request), **context}
    return templates.TemplateResponse(request, name, full, status_code=status)


def secure_cookies(request: Request) -> bool:
    """Secure cookies, except over plain http to a loopback address."""
    return request.url.scheme == "https" or request.url.hostname not in LOOPBACK


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/admin/"


def routes(services: Services) -> list[BaseRoute]:
    """GET/POST /admin/login and POST /admin/logout."""
    limiter = RateLimiter(10)

    def login_form(request: Request, error: str = "", status: int = 200) -> Response:
        token = _serializer(request, "login-form").dumps(secrets.token_hex(8))
        context = {"login_token": token, "error": error, "next": request.query_params.get("next", "")}
        return templates.TemplateResponse(request, "staff/login.html", context, status_code=status)

    async def login_page(request: Request) -> Response:
        return login_form(request)

    async def login_post(request: Request) -> Response:
        if not limiter.allow(client_address(request)):
            return login_form(request, "Too many attempts; wait a minute and try again.", 429)
        form = await request.form()
        try:
            _serializer(request, "login-form").loads(
                str(form.get(CSRF_FIELD, "")), max_age=LOGIN_FORM_MAX_AGE
            )
        except BadSignature:
            raise HTTPException(403, "This form has expired; reload the page and try again.") from None
        email, password = str(form.get("email", "")), str(form.get("password", ""))

        def check() -> Staff | None:
            with services.sessions() as session:
                return authenticate(session, email, password)

        staff = await run_in_threadpool(check)
        if staff is None:
            return login_form(request, "Wrong email or password.", 400)
        cookie = _serializer(request, "staff-session").dumps({"u": staff.id, "c": secrets.token_urlsafe(24)})
        response = RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=SESSION_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
        return response

    async def logout(request: Request) -> Response:
        await checked_form(request)
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request))
        return response

    return [
        Route("/admin/login", login_page, methods=["GET"], name="staff_login"),
        Route("/admin/login", login_post, methods=["POST"]),
        Route("/admin/logout", logout, methods=["POST"], name="staff_logout"),
    ]
