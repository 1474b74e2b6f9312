"""Subscriber-facing pages: subscribe (double opt-in), confirm, unsubscribe (RFC 8058), preferences, archive.

No page here reads or sets a cookie and none needs a login: signed tokens in the URL prove who is asking.
A GET never changes anything: confirm and unsubscribe pages show a button that POSTs. Domain errors become
friendly pages in `web/errors.py`, the app's one error mapper.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from html import escape
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter import clock
from newsletter.audience.people.consent import Consent
from newsletter.audience.people.lists import list_summaries
from newsletter.audience.readers import one_click, optin, preferences
from newsletter.errors import Suppressed
from newsletter.events.own_unsubscribe import record_own_unsubscribe
from newsletter.schedule.archive import archived_html, archived_issues
from newsletter.services import Services
from newsletter.web import site
from newsletter.web.auth import RateLimiter, client_address
from newsletter.web.guards import EMAIL_PAGE_CSP
from newsletter.web.public.archive import atom_feed
from newsletter.web.public.mailer import TransportConfirmationSender
from newsletter.web.templating import templates

SUBSCRIBES_PER_MINUTE = 5
log = logging.getLogger("newsletter.web.public")
HONEYPOT_FIELD = "website"
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, f"public/{name}", context, status_code=status)


def _consent(request: Request, method: str) -> Consent:
    return Consent(
        method=method, source="web", ip=client_address(request), user_agent=request.headers.get("user-agent")
    )


def routes(services: Services) -> list[BaseRoute]:
    """Every public route."""
    limiter = RateLimiter(SUBSCRIBES_PER_MINUTE)
    mailer = TransportConfirmationSender(services)
    base = site.base_url(services.settings)  # every absolute link: never from the request's Host header

    def public_lists() -> list[Any]:
        with services.sessions() as session:
            return [item for item in list_summaries(session) if item.visibility == "public"]

    async def subscribe_page(request: Request) -> Response:
        return _page(request, "subscribe.html", {"lists": public_lists(), "error": "", "email": ""})

    async def subscribe_post(request: Request) -> Response:
        if not limiter.allow(client_address(request)):
            wait = {"title": "Too many requests", "message": "Please wait a minute and try again."}
            return _page(request, "message.html", wait, 429)
        form = await request.form()
        if form.get(HONEYPOT_FIELD):
            return _page(request, "subscribe_sent.html", {})  # a bot: say nothing, do nothing
        email, list_id = str(form.get("email", "")).strip(), str(form.get("list", ""))
        name = str(form.get("name", "")).strip() or None
        if "@" not in email or not list_id:
            error = "Enter your email address and choose a list."
            context = {"lists": public_lists(), "error": error, "email": email}
            return _page(request, "subscribe.html", context, 400)
        # A bounced, complained or erased address is mailed nothing and hears what everyone hears.
        with services.sessions() as session, suppress(Suppressed):
            optin.subscribe(
                session,
                services.tokens,
                mailer,
                email=email,
                list_public_id=list_id,
                consent=_consent(request, "form"),
                confirm_url=lambda token: f"{base}/subscribe/confirm/{token}",
                name=name,
                manage_url=lambda token: f"{base}/preferences/{token}",
            )
        # New, pending, subscribed or suppressed: one answer; only the email (or its absence) differs.
        return _page(request, "subscribe_sent.html", {})

    async def confirm_page(request: Request) -> Response:
        token = request.path_params["token"]
        services.tokens.read_confirm(token)  # a bad link says so before any button
        return _page(request, "confirm.html", {"token": token})

    async def confirm_post(request: Request) -> Response:
        with services.sessions() as session:
            optin.confirm(
                session,
                services.tokens,
                request.path_params["token"],
                ip=client_address(request),
                user_agent=request.headers.get("user-agent"),
            )
        return _page(request, "confirmed.html", {})

    async def unsubscribe_help(request: Request) -> Response:
        context = {
            "title": "Unsubscribe",
            "message": "Use the unsubscribe link at the bottom of any of our emails: it works in one click.",
        }
        return _page(request, "message.html", context)

    async def unsubscribe_page(request: Request) -> Response:
        token = request.path_params["token"]
        services.tokens.read_unsubscribe(token)
        return _page(request, "unsubscribe.html", {"token": token})

    async def unsubscribe_post(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace").strip()
        is_one_click = body == ONE_CLICK_BODY
        token = request.path_params["token"]
        with services.sessions() as session:
            if is_one_click:
                result = one_click.one_click_unsubscribe(
                    session, services.tokens, token, on_unsubscribed=_count_one_click
                )
            else:
                result = preferences.unsubscribe(session, services.tokens, token, on_unsubscribed=_count_page)
        if is_one_click:
            return HTMLResponse(
                f"<!DOCTYPE html><title>Unsubscribed</title><p>{escape(result.message, quote=False)}</p>"
            )
        return _page(request, "unsubscribed.html", {"message": result.message})

    async def preferences_page(request: Request) -> Response:
        token = request.path_params["token"]
        with services.sessions() as session:
            prefs = preferences.get_preferences(session, services.tokens, token)
        return _page(request, "preferences.html", {"prefs": prefs, "token": token, "saved": False})

    async def preferences_post(request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form()
        chosen = [str(value) for value in form.getlist("list")]
        with services.sessions() as session:
            prefs = preferences.update_preferences(
                session, services.tokens, token, chosen, consent=_consent(request, "preferences")
            )
        return _page(request, "preferences.html", {"prefs": prefs, "token": token, "saved": True})

    async def archive_index(request: Request) -> Response:
        with services.sessions() as session:
            issues = archived_issues(session)
        return _page(request, "archive.html", {"issues": issues})

    async def archive_feed(request: Request) -> Response:
        with services.sessions() as session:
            issues = archived_issues(session, limit=50)
        title = site.publication(services.settings.publications_dir).name
        updated = issues[0].sent_at if issues else clock.now()
        body = atom_feed(issues, title=title, base_url=base, updated=updated)
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    async def archive_issue(request: Request) -> Response:
        with services.sessions() as session:
            html = archived_html(session, request.path_params["slug"])
        return HTMLResponse(html, headers={"Content-Security-Policy": EMAIL_PAGE_CSP})

    async def root(_request: Request) -> Response:
        return RedirectResponse("/subscribe", status_code=303)

    return [
        Route("/", root, methods=["GET"]),
        Route("/subscribe", subscribe_page, methods=["GET"], name="subscribe"),
        Route("/subscribe", subscribe_post, methods=["POST"]),
        Route("/subscribe/confirm/{token}", confirm_page, methods=["GET"]),
        Route("/subscribe/confirm/{token}", confirm_post, methods=["POST"]),
        Route("/unsubscribe/", unsubscribe_help, methods=["GET"]),
        Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", unsubscribe_post, methods=["POST"]),
        Route("/preferences/{token}", preferences_page, methods=["GET"]),
        Route("/preferences/{token}", preferences_post, methods=["POST"]),
        Route("/archive/", archive_index, methods=["GET"], name="archive"),
        Route("/archive/feed.atom", archive_feed, methods=["GET"], name="archive_feed"),
        Route("/archive/{slug}", archive_issue, methods=["GET"]),
    ]


def _count_one_click(session: Session, delivery_id: int) -> None:
    """Count a one-click unsubscribe in its send's report (same transaction)."""
    record_own_unsubscribe(session, delivery_id, via=one_click.SOURCE)
    log.info("unsubscribe (one-click) from delivery %d", delivery_id, extra={"delivery_id": delivery_id})


def _count_page(session: Session, delivery_id: int) -> None:
    """Count an unsubscribe from the unsubscribe page in its send's report (same transaction)."""
    record_own_unsubscribe(session, delivery_id, via="link")
    log.info("unsubscribe (page) from delivery %d", delivery_id, extra={"delivery_id": delivery_id})
