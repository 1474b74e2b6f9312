"""The live preview's server: one issue rendered on every save, served to a browser on 127.0.0.1.

`PreviewState` re-loads and re-renders the issue (in a worker thread) whenever watchfiles reports a
change to the issue, its publication folder or the email templates, and counts versions; the page asks
`/changes?since=N` (a long poll) and reloads when the version moves. A file that does not load shows its
located problems instead of the email, with the last good render one click away (`?view=last`).
Rendering goes through `render_preview(state, params)` so later query parameters (a persona) can be
added without changing the routes. Script and styles are static files: the page's CSP allows no inline script.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from newsletter.content.lint import lint_issue
from newsletter.content.load import load_issue
from newsletter.errors import ContentError, ContentProblem, NewsletterError
from newsletter.render import merge, render_issue
from newsletter.render.environment import environment
from newsletter.render.sample import sample_values

STATIC = Path(__file__).with_name("preview_static")
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' https: data:; frame-src 'self'; object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
EMAIL_HEADERS = {"Content-Security-Policy": "sandbox allow-popups", "Cache-Control": "no-store"}
LONG_POLL_SECONDS = 20.0


@dataclass
class Preview:
    """One render's outcome: the merged email, or the problems that stopped it."""

    html: str = ""
    text: str = ""
    problems: list[ContentProblem] = field(default_factory=list)
    warnings: list[ContentProblem] = field(default_factory=list)


class PreviewState:
    """The issue being previewed, its newest outcome and the last one that rendered."""

    def __init__(self, issue: Path, publications: Path, templates: Path) -> None:
        self.issue, self.publications, self.templates = issue, publications, templates
        self.version = 0
        self.current = Preview()
        self.last_good: Preview | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Load and render the issue again (blocking: run it in a thread)."""
        with self._lock:
            outcome = render_preview(self, {})
            self.current = outcome
            if not outcome.problems:
                self.last_good = outcome
            self.version += 1


def render_preview(state: PreviewState, params: Mapping[str, str]) -> Preview:
    """Load, lint and render the issue with a sample reader merged in (`params` is for later options)."""
    try:
        loaded = load_issue(state.issue, state.publications)
        rendered = render_issue(
            loaded.issue, loaded.publication, slug=loaded.slug, templates_dir=state.templates
        )
    except ContentError as exc:
        return Preview(problems=exc.problems)
    except NewsletterError as exc:
        return Preview(problems=[ContentProblem(str(state.issue), 1, 1, "", str(exc))])
    html_part, text_part = merge(rendered, sample_values(loaded.publication, loaded.slug))
    return Preview(html_part, text_part, [], lint_issue(loaded))


def _problem_list(problems: list[ContentProblem], css: str) -> str:
    items = "".join(f'<li class="{css}">{html.escape(str(p))}</li>' for p in problems)
    return f"<ul>{items}</ul>" if items else ""


def page(state: PreviewState, view: str) -> str:
    """The preview page: tabs, then the email (desktop or mobile frame, or text) or the problems."""
    current = state.current
    tabs = "".join(
        f'<a href="/?view={name}" class="tab{" on" if view == name else ""}">{label}</a>'
        for name, label in (("desktop", "Desktop"), ("mobile", "Mobile"), ("text", "Text"))
    )
    if current.problems and view != "last":
        last = (
            '<p><a id="last-good" href="/?view=last">Show the last good render</a></p>'
            if state.last_good
            else ""
        )
        found = _problem_list(current.problems, "error")
        body = f'<section id="problems"><h2>This issue does not load</h2>{found}{last}</section>'
    elif view == "text":
        shown = current if not current.problems else state.last_good or current
        body = f'<pre id="text">{html.escape(shown.text)}</pre>'
    else:
        width = "mobile" if view == "mobile" else "desktop"
        src = "/email.html?last=1" if view == "last" else "/email.html"
        body = f'<iframe id="email" class="{width}" src="{src}" title="The email"></iframe>'
    warnings = _problem_list(current.warnings, "warning")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Preview: '
        f'{html.escape(state.issue.name)}</title><link rel="stylesheet" href="/static/preview.css">'
        f'<script src="/static/preview.js" defer></script></head><body data-version="{state.version}">'
        f"<header><strong>{html.escape(str(state.issue))}</strong> <nav>{tabs}</nav></header>"
        f"<main>{body}</main><aside>{warnings}</aside></body></html>"
    )


def create_app(state: PreviewState, watched: list[Path]) -> Starlette:
    """The preview app; its lifespan watches `watched` folders and re-renders on every change."""
    changed = asyncio.Condition()

    async def watch() -> None:
        from watchfiles import awatch

        relevant = {state.issue.resolve()}
        async for changes in awatch(*watched, debounce=400, step=50):
            paths = {Path(p).resolve() for _, p in changes}
            if any(p.is_relative_to(state.templates.resolve()) for p in paths):
                environment.cache_clear()
            if paths & relevant or any(p.suffix in (".yaml", ".j2") for p in paths):
                await run_in_threadpool(state.refresh)
                async with changed:
                    changed.notify_all()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(state.refresh)
        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            task.cancel()

    async def index(request: Request) -> Response:
        view = request.query_params.get("view", "desktop")
        return HTMLResponse(page(state, view), headers=PAGE_HEADERS)

    async def email(request: Request) -> Response:
        shown = (
            state.last_good if request.query_params.get("last") or state.current.problems else state.current
        )
        return HTMLResponse((shown or state.current).html, headers=EMAIL_HEADERS)

    async def text(_request: Request) -> Response:
        return PlainTextResponse(state.current.text, headers=PAGE_HEADERS)

    async def changes(request: Request) -> Response:
        since = int(request.query_params.get("since", "0") or 0)
        if state.version == since:
            async with changed:
                with suppress(TimeoutError):
                    await asyncio.wait_for(
                        changed.wait_for(lambda: state.version != since), LONG_POLL_SECONDS
                    )
        return JSONResponse({"version": state.version}, headers={"Cache-Control": "no-store"})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/email.html", email),
            Route("/email.txt", text),
            Route("/changes", changes),
            Mount("/static", StaticFiles(directory=STATIC)),
        ],
        lifespan=lifespan,
    )
