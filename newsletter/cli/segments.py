"""CLI commands over saved segments: `segments create|list|show|delete` (thin shells over audience.segments).

Expressions are checked against the declared attributes of a publication file, read from
`--publications DIR` (default: the `NEWSLETTER_PUBLICATIONS_DIR` setting, `publications/`).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import click
from sqlalchemy.orm import Session

from newsletter.audience.segments import saved as segments
from newsletter.audience.segments.saved import PublicationFor, SegmentSummary
from newsletter.config import load_settings
from newsletter.content.load import DEFAULT_PUBLICATION, load_publication
from newsletter.content.schema import Publication
from newsletter.errors import ContentError
from newsletter.services import ready

_PUBLICATIONS = click.option(
    "--publications",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of publication files (default: NEWSLETTER_PUBLICATIONS_DIR, publications/).",
)


@contextmanager
def _session() -> Iterator[Session]:
    with ready() as services, services.sessions() as session:
        yield session


def _publications(folder: Path | None) -> PublicationFor:
    directory = folder or load_settings().publications_dir

    @cache
    def load(name: str) -> Publication:
        path = directory / f"{name}.yaml"
        if not path.is_file():
            raise ContentError.single(path, f"publication file not found (use --publications DIR): {path}")
        return load_publication(path)[0]

    return load


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@click.group()
def segments_group() -> None:
    """Saved segments: filters on subscribers' attributes, lists, dates and engagement."""


@segments_group.command("create")
@click.argument("name")
@click.option("--where", "expression", required=True, help="The filter, e.g. 'role = \"clinician\"'.")
@click.option("--list", "list_name", default=None, help="Only readers of this list (default: any list).")
@click.option("--description", default="", help="One line saying what the segment is for.")
@click.option(
    "--publication", default=DEFAULT_PUBLICATION, show_default=True, help="Whose attributes it uses."
)
@_PUBLICATIONS
def segments_create(
    name: str,
    expression: str,
    list_name: str | None,
    description: str,
    publication: str,
    publications: Path | None,
) -> None:
    """Save a segment called NAME and show how many readers it has now."""
    publication_for = _publications(publications)
    with _session() as session:
        created = segments.create_segment(
            session,
            name,
            expression,
            publication_for(publication),
            publication_name=publication,
            list_name=list_name,
            description=description,
            created_by=_who(),
        )
        summary = segments.summary(session, created, publication_for)
    click.echo(f"Created segment {summary.name!r}: {_count(summary)} {_scope(summary)}.")


@segments_group.command("list")
@_PUBLICATIONS
def segments_list(publications: Path | None) -> None:
    """Show every saved segment with its number of readers now."""
    with _session() as session:
        rows = segments.summaries(session, _publications(publications))
    if not rows:
        click.echo("No segments yet; create one with `newsletter segments create NAME --where EXPR`.")
        return
    name_width = max(len("name"), *(len(row.name) for row in rows))
    list_width = max(len("list"), *(len(row.list_name or "any") for row in rows))
    click.echo(f"{'name':<{name_width}}  {'list':<{list_width}}  {'readers':>9}  expression")
    for row in rows:
        readers = "error" if row.count is None else f"{row.count:,}"
        list_name = row.list_name or "any"
        click.echo(f"{row.name:<{name_width}}  {list_name:<{list_width}}  {readers:>9}  {row.expression}")
        if row.problem:
            for line in row.problem.splitlines():
                click.echo(f"{'':<{name_width}}  {line}")


@segments_group.command("show")
@click.argument("name")
@click.option("--sample", "sample_size", default=10, show_default=True, type=click.IntRange(0, 1000))
@_PUBLICATIONS
def segments_show(name: str, sample_size: int, publications: Path | None) -> None:
    """Show a segment: its expression, readers now and a sample of them."""
    with _session() as session:
        detail = segments.describe_segment(
            session, name, _publications(publications), sample_size=sample_size
        )
    summary = detail.summary
    click.echo(f"{summary.name}: {summary.expression}")
    if summary.description:
        click.echo(f"  description: {summary.description}")
    click.echo(f"  list: {summary.list_name or 'any list'}; attributes of publication {summary.publication}")
    click.echo(f"  created {summary.created_at:%Y-%m-%d %H:%M} UTC by {summary.created_by or '-'}")
    click.echo(f"  readers now: {summary.count:,}")
    if not detail.sample:
        return
    click.echo(f"Sample (first {len(detail.sample)} by subscriber id):")
    for member in detail.sample:
        attributes = ", ".join(f"{key}={value}" for key, value in sorted(member.attributes.items()))
        click.echo(f"  {member.email}  {member.name or '-'}  {attributes}".rstrip())


@segments_group.command("delete")
@click.argument("name")
def segments_delete(name: str) -> None:
    """Delete the saved segment NAME (sends that already started keep their recipients)."""
    with _session() as session:
        deleted = segments.delete_segment(session, name)
    click.echo(f"Deleted segment {deleted!r}.")


def _count(summary: SegmentSummary) -> str:
    if summary.count is None:
        return "not counted"
    return f"{summary.count:,} reader" + ("" if summary.count == 1 else "s")


def _scope(summary: SegmentSummary) -> str:
    return f"on {summary.list_name}" if summary.list_name else "on any list"
