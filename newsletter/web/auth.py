"""Staff sign-in for the web app: server-side sessions, CSRF, Origin checks, roles, the second factor.

A request's principal comes from the first authenticator that knows it (`AUTHENTICATORS`): today the
session cookie, whose random token names a `staff_sessions` row checked on every request (staff/sessions);
an API key (issue 18) will add its own authenticator returning a `Principal` for its account and role.
Every staff form carries a CSRF token derived from the session token, and a POST whose Origin (or
Referer) names another site is refused. The login form is bound to a pre-session cookie, so a page on
another site cannot sign a browser into someone else's account. Cookies are HttpOnly and SameSite=Lax,
and Secure except over plain http to a loopback address (a laptop, tests). Public pages set no cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from newsletter.db.audit import Actor
from newsletter.services import Services
from newsletter.staff import STAFF_ROLES, Staff
from newsletter.staff.sessions import Timeouts, resume_session
from newsletter.staff.totp import totp_required
from newsletter.web.site import base_url, is_loopback
from newsletter.web.templating import templates

SESSION_COOKIE = "newsletter_staff"
CSRF_FIELD = "csrf_token"
_PRINCIPAL_KEY = "newsletter.principal"
ACCOUNT_PATH = "/admin/account"

EVERYONE = STAFF_ROLES
SCHEDULERS = ("publisher", "admin")
OPERATORS = ("publisher", "operations", "admin")
TESTERS = ("editor", "publisher", "admin")
AUDIENCE_EDITORS = ("operations", "admin")
PERSONAL_DATA_READERS = ("operations", "admin")
ADMINS = ("admin",)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a staff account, how it proved it (`via`: session, later api-key), its CSRF secret."""

    staff: Staff
    via: str
    csrf: str = ""
    session_id: int | None = None


Authenticator = Callable[[Request], "Principal | None"]


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key (a client address); thread-safe, per process."""

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
    """The address the request came from (rate limits, consent evidence, the audit log)."""
    return request.client.host if request.client else "unknown"


def services_of(request: Request) -> Services:
    """The app's services."""
    found: Services = request.app.state.services
    return found


def keyed(request: Request, purpose: str, value: str) -> str:
    """An HMAC of `value` for `purpose` under the product's secret key (CSRF tokens)."""
    key = services_of(request).settings.require_secret_key().encode("utf-8")
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def timeouts(services: Services) -> Timeouts:
    """The session timeouts from the settings."""
    settings = services.settings
    return Timeouts(
        timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_max_hours)
    )


def session_principal(request: Request) -> Principal | None:
    """The principal of the session cookie, if its session is still live."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    services = services_of(request)
    with services.sessions() as session:
        found = resume_session(session, token, timeouts(services))
    if found is None:
        return None
    return Principal(found.staff, "session", keyed(request, "csrf", token), found.session_id)


AUTHENTICATORS: list[Authenticator] = [session_principal]
"""Tried in order; an API-key authenticator (issue 18) is added here."""


def current_principal(request: Request) -> Principal | None:
    """Who is asking (read once per request), or None."""
    if _PRINCIPAL_KEY not in request.scope:
        found = None
        for authenticate in AUTHENTICATORS:
            found = authenticate(request)
            if found is not None:
                break
        request.scope[_PRINCIPAL_KEY] = found
    principal: Principal | None = request.scope[_PRINCIPAL_KEY]
    return principal


def current_staff(request: Request) -> Staff | None:
    """The signed-in account of this request, or None."""
    principal = current_principal(request)
    return principal.staff if principal else None


def actor(request: Request) -> Actor:
    """The audit log's actor for this request: the signed-in account, from the client's address."""
    principal = current_principal(request)
    if principal is None:
        return Actor("anonymous", "system", client_address(request))
    kind = "api" if principal.via == "api-key" else "staff"
    return Actor(principal.staff.email, kind, client_address(request))


def login_redirect(request: Request) -> HTTPException:
    """An exception answering 303 to the login page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(303, headers={"Location": f"/admin/login?next={quote(target, safe='')}"})


def require_role(request: Request, *roles: str, second_factor_set_up: bool = True) -> Staff:
    """The signed-in account if its role is one of `roles`; else a redirect to login, or 403.

    When an admin requires a second factor and this account has none yet, every page but the account
    page sends it there first (`second_factor_set_up=False` is for that page).
    """
    principal = current_principal(request)
    if principal is None:
        raise login_redirect(request)
    staff = principal.staff
    if second_factor_set_up and not staff.has_totp and principal.via == "session":
        with services_of(request).sessions() as session:
            required = totp_required(session)
        if required:
            raise HTTPException(303, headers={"Location": ACCOUNT_PATH + "/totp"})
    if roles and staff.role not in roles:
        raise HTTPException(403, f"Your role ({staff.role}) may not do this.")
    return staff


def require_staff(request: Request) -> Staff:
    """Any signed-in staff member (report pages call this first)."""
    return require_role(request, *EVERYONE)


def csrf_token(request: Request) -> str:
    """The CSRF token to put in this session's forms."""
    principal = current_principal(request)
    return principal.csrf if principal else ""


def check_origin(request: Request) -> None:
    """403 unless the request's Origin (or, lacking it, Referer) is this site; neither sent is allowed.

    This site is the Host the request came to, or the publication's `web_base_url` (a proxy in front may
    pass its own Host on to the app).
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    ours = {request.headers.get("host", "").lower(), urlsplit(base_url(services_of(request).settings)).netloc}
    if source == "null" or urlsplit(source).netloc.lower() not in ours:
        raise HTTPException(403, "This form was sent from another site.")


async def checked_form(request: Request) -> FormData:
    """The posted form, refused with 403 unless it comes from this site with this session's CSRF token."""
    check_origin(request)
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
    """Secure cookies (the base URL is https), except over plain http to a loopback address."""
    return request.url.scheme == "https" or not is_loopback(request.url.hostname)


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int, path: str
) -> None:
    """An HttpOnly, SameSite=Lax cookie (Secure unless plain http on loopback)."""
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, samesite="lax", secure=secure_cookies(request)
    )


def delete_cookie(request: Request, response: Response, name: str, *, path: str) -> None:
    """Remove a cookie set by `set_cookie`."""
    response.delete_cookie(name, path=path, httponly=True, samesite="lax", secure=secure_cookies(request))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, else the staff home."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin/"
