"""Admin pages: staff accounts (/admin/users) and the audit log (/admin/audit), for admins only.

The same functions as `newsletter users ...` and `newsletter audit`: add an account (a password made
here, shown once), change a role, deactivate or activate, reset a password (shown once) or a second
factor, require a second factor for everyone; read the audit log filtered by date, person and action.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from newsletter.db.audit import Action, Actor, entries
from newsletter.errors import NewsletterError
from newsletter.services import Services
from newsletter.staff import STAFF_ROLES, accounts, sessions, totp
from newsletter.web import auth

AUDIT_ROWS = 500


def routes(services: Services) -> list[BaseRoute]:
    """GET/POST /admin/users, POST /admin/users/{change}, GET /admin/audit."""

    def users_page(request: Request, message: str = "", error: str = "", status: int = 200) -> Response:
        auth.require_role(request, *auth.ADMINS)
        with services.sessions() as session:
            rows = accounts.list_users(session)
            required = totp.totp_required(session)
            open_counts = {row.id: sessions.open_sessions(session, row.id) for row in rows}
        context = {
            "rows": rows,
            "open_sessions": open_counts,
            "roles": STAFF_ROLES,
            "required": required,
            "message": message,
            "error": error,
        }
        return auth.page(request, "staff/users.html", context, status)

    async def list_page(request: Request) -> Response:
        return users_page(request)

    async def change(request: Request) -> Response:
        admin = auth.require_role(request, *auth.ADMINS)
        form = await auth.checked_form(request)
        what, email, by = request.path_params["change"], str(form.get("email", "")), auth.actor(request)
        if what == "require-totp" and not admin.has_totp:
            return users_page(request, error="Set up your own second factor first (Account).", status=400)
        try:
            with services.sessions() as session:
                message = _apply(session, what, email, str(form.get("role", "")), by)
        except NewsletterError as exc:
            return users_page(request, error=str(exc), status=400)
        return users_page(request, message=message)

    async def audit_page(request: Request) -> Response:
        auth.require_role(request, *auth.ADMINS)
        params = request.query_params
        since_text, user, action = (
            params.get("since", "")[:10],
            params.get("user", "")[:320],
            params.get("action", ""),
        )
        try:
            since = datetime.fromisoformat(since_text).replace(tzinfo=UTC) if since_text else None
        except ValueError:
            since = None
        actions = [action] if action in {a.value for a in Action} else []
        with services.sessions() as session:
            rows = entries(session, since=since, actor=user or None, actions=actions, limit=AUDIT_ROWS)
        context = {"rows": rows, "actions": [a.value for a in Action], "since": since_text if since else "",
                   "user": user, "action": action if actions else ""}  # fmt: skip
        return auth.page(request, "staff/audit.html", context)

    return [
        Route("/admin/users", list_page, methods=["GET"], name="staff_users"),
        Route("/admin/users/{change}", change, methods=["POST"]),
        Route("/admin/audit", audit_page, methods=["GET"], name="staff_audit"),
    ]


def _apply(session: Session, what: str, email: str, role: str, by: Actor) -> str:
    """Carry out one change from the users page; the message to show."""
    if what == "add":
        password = secrets.token_urlsafe(12)
        staff = accounts.add_user(session, email, role, password, by=by)
        return f"Added {staff.email} ({staff.role}). Their password, shown only now: {password}"
    if what == "role":
        staff = accounts.set_role(session, email, role, by=by)
        return f"{staff.email} is now {staff.role}."
    if what in ("deactivate", "activate"):
        staff = accounts.set_active(session, email, what == "activate", by=by)
        return f"{staff.email} is {'active' if what == 'activate' else 'deactivated; their sessions ended'}."
    if what == "reset-password":
        password = secrets.token_urlsafe(12)
        staff = accounts.reset_password(session, email, password, by=by)
        return f"New password for {staff.email}, shown only now: {password} (their sessions ended)"
    if what == "reset-totp":
        totp.reset_totp(session, email, by=by)
        return f"The second factor of {email.strip().lower()} is removed."
    if what in ("require-totp", "allow-no-totp"):
        totp.require_totp(session, what == "require-totp", by=by)
        return (
            "A second factor is now required for everyone."
            if what == "require-totp"
            else "A second factor is optional."
        )
    raise accounts.StaffError(f"unknown change {what!r}")
