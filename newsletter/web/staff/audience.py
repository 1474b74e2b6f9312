"""Staff audience pages: lists, subscriber search, a subscriber's history (consent, mail, events), import."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from newsletter.audience.csvimport.importer import ImportReport, import_csv
from newsletter.audience.csvimport.scratch import ScratchFolder
from newsletter.audience.people.lists import list_summaries
from newsletter.audience.people.search import search_subscribers
from newsletter.audience.people.subscribers import describe_subscriber
from newsletter.db.audit import Action, Actor, record
from newsletter.errors import ImportFileError
from newsletter.reports.subscriber_history import deliveries_page, events_page
from newsletter.services import Services
from newsletter.web import auth

REJECTS_SHOWN = 200
COPY_CHUNK = 1024 * 1024


def _import(
    services: Services, upload: BinaryIO, filename: str, list_name: str, by: Actor
) -> tuple[ImportReport, list[list[str]]]:
    with ScratchFolder() as folder:  # removed however the request ends (after a kill: by the next import)
        path = folder / (Path(filename).name[:100] or "upload.csv")
        with path.open("wb") as handle:  # the upload is spooled to disk by the form parser; copy, never load
            shutil.copyfileobj(upload, handle, COPY_CHUNK)
        with services.sessions() as session:
            report = import_csv(session, path, list_name)
            record(session, by, Action.IMPORT, f"list {list_name}", _counts(report))
            session.commit()
        rejects: list[list[str]] = []
        if report.rejects_path.is_file():
            with report.rejects_path.open(encoding="utf-8", newline="") as handle:
                rejects = [row for _, row in zip(range(REJECTS_SHOWN + 1), csv.reader(handle), strict=False)]
    return report, rejects


def _counts(report: ImportReport) -> dict[str, object]:
    """What an import audit row says: the file and its figures."""
    return {
        "file": report.file.name,
        "rows": report.rows, "added": report.added, "updated": report.updated,
        "rejected": report.rejected, "suppressed": report.suppressed,
    }  # fmt: skip


def _page_number(request: Request, name: str) -> int:
    value = request.query_params.get(name, "1")
    return int(value) if value.isdecimal() and len(value) < 9 else 1


def routes(services: Services) -> list[BaseRoute]:
    """/admin/audience (lists + search), .../search, .../subscriber (history), .../import."""

    def lists() -> list[object]:
        with services.sessions() as session:
            return list(list_summaries(session))

    async def overview(request: Request) -> Response:
        auth.require_staff(request)
        return auth.page(request, "staff/audience.html", {"lists": lists()})

    async def search(request: Request) -> Response:
        auth.require_staff(request)
        with services.sessions() as session:
            result = search_subscribers(session, request.query_params.get("q", "")[:200])
        return auth.page(request, "staff/search.html", {"result": result})

    async def subscriber(request: Request) -> Response:
        staff = auth.require_staff(request)
        email = request.query_params.get("email", "")
        personal = staff.role in auth.PERSONAL_DATA_READERS  # IP, user agent, attributes
        with services.sessions() as session:
            detail = describe_subscriber(session, email)
            context: dict[str, object] = {
                "detail": detail, "deliveries": None, "events": None, "personal": personal,
            }  # fmt: skip
            if detail.subscriber is not None:
                person = detail.subscriber.id
                context["deliveries"] = deliveries_page(session, person, _page_number(request, "dpage"))
                context["events"] = events_page(session, person, _page_number(request, "epage"))
            return auth.page(request, "staff/subscriber.html", context)

    async def import_page(request: Request) -> Response:
        auth.require_role(request, *auth.AUDIENCE_EDITORS)
        return auth.page(request, "staff/import.html", {"lists": lists(), "report": None, "rejects": []})

    async def import_post(request: Request) -> Response:
        auth.require_role(request, *auth.AUDIENCE_EDITORS)
        form = await auth.checked_form(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ImportFileError("choose a CSV file to import")
        try:
            report, rejects = await run_in_threadpool(
                _import, services, upload.file, upload.filename or "upload.csv", str(form.get("list", "")),
                auth.actor(request),
            )  # fmt: skip
        finally:
            await form.close()  # the spooled upload's temporary file
        context = {"lists": lists(), "report": report, "rejects": rejects}
        return auth.page(request, "staff/import.html", context)

    return [
        Route("/admin/audience", overview, methods=["GET"], name="staff_audience"),
        Route("/admin/audience/search", search, methods=["GET"]),
        Route("/admin/audience/subscriber", subscriber, methods=["GET"]),
        Route("/admin/audience/import", import_page, methods=["GET"]),
        Route("/admin/audience/import", import_post, methods=["POST"]),
    ]
