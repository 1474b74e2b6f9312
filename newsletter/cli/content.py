"""CLI commands over content and render: `check` validates and lints, `render` writes HTML, text and .eml.

Both print the same findings: errors (the file does not load, or a check the publication made blocking)
and warnings. `render` writes nothing when there is an error.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from newsletter.content.lint import lint_issue
from newsletter.content.load import LoadedIssue, load_issue
from newsletter.errors import ContentError, ContentProblem
from newsletter.render import RenderedIssue, merge, render_issue
from newsletter.render.eml import build_message
from newsletter.render.lint import lint_rendered
from newsletter.render.sample import sample_values

PUBLICATIONS_OPTION = click.option(
    "--publications",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of publication files (default: publications/ beside the issue's folder).",
)


def _issue_paths(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.yaml"))
        else:
            yield path


def _split(findings: list[ContentProblem]) -> tuple[list[ContentProblem], list[ContentProblem]]:
    errors = [f for f in findings if f.severity == "error"]
    return errors, [f for f in findings if f.severity != "error"]


def _check_one(path: Path, publications: Path | None) -> tuple[list[ContentProblem], list[ContentProblem]]:
    """(errors, warnings) of one issue file."""
    try:
        loaded = load_issue(path, publications)
    except ContentError as exc:
        return exc.problems, []
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    return _split(lint_issue(loaded) + lint_rendered(rendered, path))


def _print(errors: list[ContentProblem], warnings: list[ContentProblem]) -> None:
    for problem in errors:
        click.echo(f"error: {problem}", err=True)
    for note in warnings:
        click.echo(f"warning: {note}", err=True)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@PUBLICATIONS_OPTION
def check(paths: tuple[Path, ...], strict: bool, publications: Path | None) -> None:
    """Validate and lint issue files (or every *.yaml in a folder); exit 1 on any error."""
    files = list(_issue_paths(paths))
    errors = warnings = 0
    for path in files:
        problems, notes = _check_one(path, publications)
        _print(problems, notes)
        errors += len(problems)
        warnings += len(notes)
    click.echo(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        if strict and warnings and not errors:
            click.echo("aborted: warnings are fatal with --strict", err=True)
        raise SystemExit(1)


def _write_atomically(files: dict[Path, bytes]) -> None:
    """Write every file or none: each goes to a temp file first, then all are renamed into place."""
    staged: list[tuple[str, Path]] = []
    try:
        for target, body in files.items():
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
            staged.append((tmp, target))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _outputs(loaded: LoadedIssue, rendered: RenderedIssue, out: Path) -> dict[Path, bytes]:
    values = sample_values(loaded.publication, loaded.slug)
    html, text = merge(rendered, values)
    message = build_message(rendered, loaded.publication, to=values["email"], values=values)
    return {
        out / f"{loaded.slug}.html": html.encode("utf-8"),
        out / f"{loaded.slug}.txt": text.encode("utf-8"),
        out / f"{loaded.slug}.eml": message.as_bytes(),
    }


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
              show_default=True, help="Folder for <slug>.html, <slug>.txt and <slug>.eml.")  # fmt: skip
@PUBLICATIONS_OPTION
def render(path: Path, out: Path, publications: Path | None) -> None:
    """Render an issue with a sample recipient merged in: <slug>.html, .txt and a complete .eml."""
    loaded = load_issue(path, publications)
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    errors, warnings = _split(lint_issue(loaded) + lint_rendered(rendered, path))
    _print(errors, warnings)
    if errors:
        click.echo(f"nothing written: {len(errors)} error(s)", err=True)
        raise SystemExit(1)
    files = _outputs(loaded, rendered, out)
    out.mkdir(parents=True, exist_ok=True)
    _write_atomically(files)
    for target in files:
        click.echo(str(target))
