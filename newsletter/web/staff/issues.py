"""Staff issue pages: issues/*.yaml with lint status, previews (desktop, mobile, text), test sends."""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.content.lint import lint_issue
from newsletter.content.load import LoadedIssue, load_issue
from newsletter.db.audit import Action, record
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.errors import ContentError, ContentProblem, NotFound
from newsletter.render import RenderedIssue, merge, render_issue
from newsletter.render.sample import sample_values
from newsletter.schedule.sends import create_test_send
from newsletter.services import Services
from newsletter.web import auth
from newsletter.web.guards import EMAIL_PAGE_CSP

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_SLUG = 200


@dataclass(frozen=True)
class IssueRow:
    """One issue file in the list: its slug, subject (when valid) and lint status."""

    slug: str
    subject: str
    errors: int
    warnings: int


@dataclass(frozen=True)
class SourceLine:
    """One numbered line of a YAML file, with the problems reported on it."""

    number: int
    text: str
    problems: list[ContentProblem]


def issue_path(services: Services, slug: str) -> Path:
    """The file of an issue slug; NotFound for anything that is not a plain file name in issues/."""
    if len(slug) > MAX_SLUG or not SLUG.match(slug):
        raise NotFound(f"no issue {slug[:40]!r}")
    path = services.settings.issues_dir / f"{slug}.yaml"
    if not path.is_file():
        raise NotFound(f"no issue {slug!r}")
    return path


def issue_rows(issues_dir: Path) -> list[IssueRow]:
    """Every issue file, newest name first, with its error and warning counts."""
    rows = []
    for path in sorted(issues_dir.glob("*.yaml"), reverse=True):
        try:
            loaded = load_issue(path)
        except ContentError as exc:
            rows.append(IssueRow(path.stem, "", len(exc.problems), 0))
            continue
        rows.append(IssueRow(path.stem, loaded.issue.subject, 0, len(lint_issue(loaded))))
    return rows


def source_lines(path: Path, problems: list[ContentProblem]) -> list[SourceLine]:
    """The file's lines with each problem placed at its line (problems in other files are left out)."""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    here = [p for p in problems if Path(p.path).resolve() == path.resolve()]
    return [SourceLine(n, line, [p for p in here if p.line == n]) for n, line in enumerate(text, start=1)]


def _render(loaded: LoadedIssue) -> RenderedIssue:
    return render_issue(loaded.issue, loaded.publication, slug=loaded.slug)


def routes(services: Services) -> list[BaseRoute]:
    """The issue list, an issue's page, its merged preview HTML and the test-send form."""

    async def issue_list(request: Request) -> Response:
        auth.require_staff(request)
        rows = await run_in_threadpool(issue_rows, services.settings.issues_dir)
        return auth.page(request, "staff/issues.html", {"rows": rows})

    async def issue_page(request: Request) -> Response:
        auth.require_staff(request)
        slug = request.path_params["slug"]
        path = issue_path(services, slug)
        try:
            loaded = await run_in_threadpool(load_issue, path)
        except ContentError as exc:
            context = {
                "slug": slug,
                "path": path,
                "problems": exc.problems,
                "lines": source_lines(path, exc.problems),
            }
            return auth.page(request, "staff/issue_errors.html", context, 422)
        rendered = await run_in_threadpool(_render, loaded)
        _html, text = merge(rendered, sample_values(loaded.publication, slug))
        context = {
            "slug": slug,
            "issue": loaded.issue,
            "warnings": lint_issue(loaded),
            "text": text,
            "tested": request.query_params.get("tested", ""),
        }
        return auth.page(request, "staff/issue.html", context)

    async def preview_html(request: Request) -> Response:
        auth.require_staff(request)
        slug = request.path_params["slug"]
        loaded = await run_in_threadpool(load_issue, issue_path(services, slug))
        rendered = await run_in_threadpool(_render, loaded)
        html, _text = merge(rendered, sample_values(loaded.publication, slug))
        csp = f"{EMAIL_PAGE_CSP}; frame-ancestors 'self'"
        headers = {"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": csp}
        return HTMLResponse(html, headers=headers)

    async def test_send(request: Request) -> Response:
        staff = auth.require_role(request, *auth.TESTERS)
        form = await auth.checked_form(request)
        who = auth.actor(request)
        slug = request.path_params["slug"]
        addresses = [a.strip() for a in re.split(r"[,\s]+", str(form.get("to", ""))) if a.strip()]
        loaded = await run_in_threadpool(load_issue, issue_path(services, slug))

        def send() -> int:
            rendered = _render(loaded)
            transport = services.ready_to_send()
            runner = SendRunner(
                services.sessions, transport, services.tokens, worker_identity(), RunOptions()
            )
            with closing(runner):
                with services.sessions.begin() as session:
                    test = create_test_send(
                        session, rendered, loaded.publication, addresses=addresses,
                        transport=services.settings.transport, created_by=staff.email,
                        limit=services.settings.test_send_max_recipients,
                    )  # fmt: skip
                    send_id = test.id
                    record(session, who, Action.SEND_TEST, f"send {send_id}",
                           {"issue": slug, "to": test.test_recipients})  # fmt: skip
                report = runner.run(send_id)
            return report.counts.get("accepted", 0)

        accepted = await run_in_threadpool(send)
        return RedirectResponse(f"/admin/issues/{slug}?tested={accepted}", status_code=303)

    return [
        Route("/admin/issues", issue_list, methods=["GET"], name="staff_issues"),
        Route("/admin/issues/{slug}", issue_page, methods=["GET"]),
        Route("/admin/issues/{slug}/preview.html", preview_html, methods=["GET"]),
        Route("/admin/issues/{slug}/test", test_send, methods=["POST"]),
    ]
