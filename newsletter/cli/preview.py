"""`newsletter preview ISSUE`: a live preview on 127.0.0.1 that re-renders and reloads on every save."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.content import PUBLICATIONS_OPTION


@click.command()
@click.argument("issue", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port on 127.0.0.1."
)
@PUBLICATIONS_OPTION
def preview(issue: Path, port: int, publications: Path | None) -> None:
    """Serve a live preview of ISSUE on 127.0.0.1 that re-renders and reloads on every save."""
    import uvicorn

    from newsletter.cli.preview_app import PreviewState, create_app
    from newsletter.config import load_settings

    templates = load_settings().templates_dir
    publications = publications or issue.parent / ".." / "publications"
    state = PreviewState(issue, publications, templates)
    app = create_app(state, [issue.parent, publications, templates])
    click.echo(f"Preview of {issue} at http://127.0.0.1:{port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
