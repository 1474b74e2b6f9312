"""Request and response guards around every route: trusted hosts, body-size limits, security headers.

`HostGuard` refuses a Host header that is not one of the site's (web/site.py), so nothing can make the
app build links on another domain; health and metrics paths are exempt (probes may use the pod's IP).
`BodyLimit` answers 413 as soon as a body is known to be too large: at once from Content-Length, or
mid-stream for a chunked body, before the route has read it in full. `SecurityHeaders` adds to every
response, errors included, a strict Content-Security-Policy (no inline script or style; a route may set
its own, as the sandboxed preview and archive pages do), frame, referrer, type-sniffing and opener rules,
HSTS over https, and `Cache-Control: no-store` on staff pages and public pages reached by a token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNCHECKED_HOST_PATHS = ("/healthz", "/readyz", "/metrics")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
EMAIL_PAGE_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src https: data:; "
    "style-src 'unsafe-inline'; font-src https: data:; base-uri 'none'; form-action 'none'"
)
"""A rendered email shown as a page (archive, staff preview): its own inline CSS, no script at all."""
NO_STORE_PREFIXES = ("/admin", "/subscribe", "/unsubscribe", "/preferences")
STAFF_PREFIX = "/admin"


class HostGuard:
    """Starlette's TrustedHostMiddleware for every path but the health and metrics probes."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str]) -> None:
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=list(hosts), www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"] not in UNCHECKED_HOST_PATHS:
            await self.checked(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class BodyLimit:
    """413 for a request body over `limit_for(path)` bytes, before the route has read it all."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        received = 0
        exceeded = False

        async def limited() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a chunked body: stop reading it here; the route answers 413
                    exceeded = True
                    raise HTTPException(413, f"The request body is over {limit} bytes.")
            return message

        async def closing(message: Message) -> None:
            if exceeded and message["type"] == "http.response.start":  # the rest is never read: hang up
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, limited, closing)


class SecurityHeaders:
    """Adds the security headers a response did not set itself (wraps the whole app, errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = _defaults(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in defaults if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _defaults(scope: Scope) -> list[tuple[bytes, bytes]]:
    path: str = scope["path"]
    staff = path == STAFF_PREFIX or path.startswith(STAFF_PREFIX + "/")
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin" if staff else b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if any(path == p or path.startswith(p + "/") for p in NO_STORE_PREFIXES):
        headers.append((b"cache-control", b"no-store"))
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = f"The request body is over {limit} bytes.\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
