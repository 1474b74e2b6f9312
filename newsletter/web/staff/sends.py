"""Staff send pages: the list of sends, scheduling with a confirmation step, pause/resume/cancel, progress."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.audience.people.lists import list_summaries
from newsletter.content.load import load_issue
from newsletter.errors import ScheduleError
from newsletter.render import render_issue
from newsletter.schedule import sends as sending
from newsletter.schedule.times import local_time
from newsletter.schedule.wakeups import add_wakeup
from newsletter.services import Services
from newsletter.web import auth
from newsletter.web.staff.issues import issue_path

ACTIONS = {"pause": sending.pause, "resume": sending.resume, "cancel": sending.cancel}


def parse_when(date: str, time: str, zone: str) -> datetime:
    """A date (YYYY-MM-DD) and time (HH:MM) in IANA time zone `zone` → an aware datetime."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {zone!r}") from None
    try:
        naive = datetime.fromisoformat(f"{date.strip()}T{time.strip()}")
    except ValueError:
        raise ScheduleError(f"cannot read the date {date!r} and time {time!r}") from None
    if naive.utcoffset() is not None:
        return naive
    return local_time(naive, str(tz))


def routes(services: Services) -> list[BaseRoute]:
    """The sends list, the schedule form and its confirmation, a send's page, its progress, actions."""

    async def send_list(request: Request) -> Response:
        auth.require_staff(request)
        with services.sessions() as session:
            rows = sending.summaries(session)
        return auth.page(request, "staff/sends.html", {"rows": rows})

    async def new_send(request: Request) -> Response:
        auth.require_role(request, *auth.SCHEDULERS)
        slug = request.query_params.get("issue", "")
        loaded = await run_in_threadpool(load_issue, issue_path(services, slug))
        with services.sessions() as session:
            lists = list_summaries(session)
        context = {
            "slug": slug,
            "lists": lists,
            "zone": loaded.publication.timezone,
            "subject": loaded.issue.subject,
        }
        return auth.page(request, "staff/send_new.html", context)

    async def confirm_send(request: Request) -> Response:
        auth.require_role(request, *auth.SCHEDULERS)
        form = await auth.checked_form(request)
        slug, zone = str(form.get("issue", "")), str(form.get("timezone", ""))
        date, time = str(form.get("date", "")), str(form.get("time", ""))
        names = [str(v) for v in form.getlist("list")]
        when = parse_when(date, time, zone)
        loaded = await run_in_threadpool(load_issue, issue_path(services, slug))
        if not names:
            raise ScheduleError("choose at least one list")
        with services.sessions() as session:
            count = sending.recipient_count(session, names)
        context = {
            "slug": slug, "subject": loaded.issue.subject, "lists": names, "count": count,
            "when": when, "date": date, "time": time, "zone": zone,
        }  # fmt: skip
        return auth.page(request, "staff/send_confirm.html", context)

    async def create(request: Request) -> Response:
        staff = auth.require_role(request, *auth.SCHEDULERS)
        form = await auth.checked_form(request)
        slug = str(form.get("issue", ""))
        when = parse_when(str(form.get("date", "")), str(form.get("time", "")), str(form.get("timezone", "")))
        names = [str(v) for v in form.getlist("list")]
        loaded = await run_in_threadpool(load_issue, issue_path(services, slug))
        rendered = await run_in_threadpool(render_issue, loaded.issue, loaded.publication, slug=slug)
        with services.sessions.begin() as session:
            send = sending.create_send(
                session, rendered, loaded.publication, list_names=names, at=when,
                transport=services.settings.transport, created_by=staff.email,
            )  # fmt: skip
            session.flush()
            send_id = send.id
            session.expunge(send)
        add_wakeup(services.engine, send)
        return RedirectResponse(f"/admin/sends/{send_id}", status_code=303)

    async def send_page(request: Request) -> Response:
        auth.require_staff(request)
        with services.sessions() as session:
            summary = sending.summary(session, request.path_params["ref"])
        return auth.page(request, "staff/send.html", {"send": summary.send, "summary": summary})

    async def progress(request: Request) -> Response:
        auth.require_staff(request)
        with services.sessions() as session:
            summary = sending.summary(session, request.path_params["ref"])
            send = summary.send
            return JSONResponse(
                {
                    "id": send.id,
                    "status": send.status,
                    "done": summary.done,
                    "total": summary.total,
                    "counts": summary.counts,
                }
            )

    async def action(request: Request) -> Response:
        auth.require_role(request, *auth.OPERATORS)
        await auth.checked_form(request)
        verb = request.path_params["action"]
        if verb not in ACTIONS:
            raise ScheduleError(f"unknown action {verb!r}")
        with services.sessions.begin() as session:
            send = ACTIONS[verb](session, request.path_params["ref"])
            send_id = send.id
        return RedirectResponse(f"/admin/sends/{send_id}", status_code=303)

    return [
        Route("/admin/sends", send_list, methods=["GET"], name="staff_sends"),
        Route("/admin/sends", create, methods=["POST"]),
        Route("/admin/sends/new", new_send, methods=["GET"]),
        Route("/admin/sends/confirm", confirm_send, methods=["POST"]),
        Route("/admin/sends/{ref}", send_page, methods=["GET"]),
        Route("/admin/sends/{ref}/progress.json", progress, methods=["GET"]),
        Route("/admin/sends/{ref}/{action}", action, methods=["POST"]),
    ]
