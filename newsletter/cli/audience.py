"""CLI commands over the audience stage: `db upgrade`, `lists ...`, `subscribers ...` (thin shells)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from newsletter.audience import export as exporter
from newsletter.audience.addresses import normalise_email
from newsletter.audience.csvimport import importer
from newsletter.audience.csvimport.importer import ProgressCallback
from newsletter.audience.people import lists as list_store
from newsletter.audience.people import subscribers as people
from newsletter.cli.actor import by_option, cli_actor
from newsletter.config import load_settings
from newsletter.db.audit import Action, record
from newsletter.db.session import describe_url
from newsletter.errors import ImportFileError, NewsletterError
from newsletter.services import build, ready

if TYPE_CHECKING:
    from rich.progress import TaskID


@contextmanager
def _session() -> Iterator[Session]:
    """A session of a database that is reachable and migrated (else a one-line error)."""
    with ready() as services, services.sessions() as session:
        yield session


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@click.group()
def db() -> None:
    """Create or migrate the database (NEWSLETTER_DATABASE_URL)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    from newsletter.db.migrate import upgrade  # Alembic: imported only by this command

    settings = load_settings()
    with build(settings) as services:
        revision = upgrade(services.engine)
    click.echo(f"Database {describe_url(settings.database_url)} is at revision {revision}.")


@click.group()
def lists() -> None:
    """Create and list mailing lists."""


@lists.command("create")
@click.argument("name")
@click.option("--double-opt-in", is_flag=True, help="New subscribers must confirm by email.")
@click.option("--private", is_flag=True, help="Not offered on public forms or preference pages.")
@click.option("--description", default="", help="One line shown on the preferences page.")
def lists_create(name: str, double_opt_in: bool, private: bool, description: str) -> None:
    """Create a list called NAME."""
    with _session() as session:
        created = list_store.create_list(
            session, name, double_opt_in=double_opt_in, private=private, description=description
        )
        click.echo(
            f"Created list {created.name!r}: {created.visibility}, {created.opt_in} opt-in "
            f"(public id {created.public_id})."
        )


@lists.command("list")
def lists_list() -> None:
    """Show every list with its number of active subscribers."""
    with _session() as session:
        summaries = list_store.list_summaries(session)
    if not summaries:
        click.echo("No lists yet; create one with `newsletter lists create NAME`.")
        return
    width = max(len("name"), *(len(s.name) for s in summaries))
    click.echo(f"{'name':<{width}}  visibility  opt-in  active")
    for s in summaries:
        click.echo(f"{s.name:<{width}}  {s.visibility:<10}  {s.opt_in:<6}  {s.active:>6}")


@click.group()
def subscribers() -> None:
    """Add, import, export, show, unsubscribe and erase subscribers."""


@subscribers.command("add")
@click.argument("email")
@click.option("--list", "list_name", required=True, help="The list to add them to.")
@click.option("--name", default=None, help="Their name.")
def subscribers_add(email: str, list_name: str, name: str | None) -> None:
    """Add EMAIL to a list as an active subscriber (you vouch for their consent)."""
    with _session() as session:
        outcome = people.add_subscriber(session, email, list_name, name=name)
    address = normalise_email(email)
    if outcome == "added":
        click.echo(f"Added {address} to {list_name}.")
    else:
        click.echo(f"{address} is already subscribed to {list_name}.")


@subscribers.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--list", "list_name", required=True, help="The list to import into.")
@click.option(
    "--rejects",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write rejected rows (default: FILE.rejects.csv beside FILE).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@by_option
def subscribers_import(file: Path, list_name: str, rejects: Path | None, quiet: bool, by: str | None) -> None:
    """Import subscribers from FILE (CSV with a header row and an email column)."""
    if rejects is not None and not rejects.parent.is_dir():  # found out before anything is imported
        raise ImportFileError(f"--rejects {rejects}: the folder {rejects.parent} does not exist")
    with _stopped_by_sigterm(), _session() as session, _progress(quiet) as progress:
        report = importer.import_csv(session, file, list_name, rejects_path=rejects, progress=progress)
        details = {"file": str(file), "rows": report.rows, "added": report.added, "updated": report.updated,
                   "rejected": report.rejected, "suppressed": report.suppressed}  # fmt: skip
        record(session, cli_actor(by), Action.IMPORT, f"list {list_name}", details)
        session.commit()
    click.echo(
        f"Read {report.rows} rows from {report.file} into {report.list_name}: "
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.merged} merged duplicates, {report.rejected} rejected, "
        f"{report.suppressed} suppressed."
    )
    bad = report.rejected + report.suppressed
    click.echo(f"Rejects ({bad} rows, each with its row number and reason): {report.rejects_path}")


class ImportStopped(NewsletterError):
    """SIGTERM arrived during an import: the chunk in flight is rolled back, the scratch folder removed."""


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception, so an import unwinds (rollback, clean-up) instead of vanishing."""

    def stop(_signum: int, _frame: object) -> None:
        raise ImportStopped("the import was stopped (SIGTERM); import the file again to finish it")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressCallback]:
    from rich.console import Console  # rich: imported only by `subscribers import`
    from rich.progress import BarColumn, Progress

    bar = Progress(
        "{task.description:<8}",
        BarColumn(),
        "{task.percentage:>3.0f}%",
        "{task.fields[detail]}",
        console=Console(stderr=True),
        disable=quiet or not sys.stderr.isatty(),
        refresh_per_second=2,  # rich's default 10 redraws a second cost the import ~10% of its CPU
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int) -> None:
        unit = "MB" if phase == "reading" else "addresses"
        scale = 1_000_000 if phase == "reading" else 1
        known = total or None  # 0: a pipe, whose size is not known
        detail = (
            f"{done / scale:,.0f}/{total / scale:,.0f} {unit}" if known else f"{done / scale:,.0f} {unit}"
        )
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase.capitalize(), total=known, detail=detail)
        bar.update(tasks[phase], completed=done, total=known, detail=detail)

    with bar:
        yield update


@subscribers.command("export")
@click.option("--list", "list_name", required=True, help="The list to export.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File to write (default: standard output).",
)
@by_option
def subscribers_export(list_name: str, out: Path | None, by: str | None) -> None:
    """Export a list's members as CSV (formula-like cells are prefixed with ')."""
    with _session() as session:
        if out is None:
            count = exporter.export_list(session, list_name, sys.stdout)
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                count = exporter.export_list(session, list_name, handle)
        where = str(out) if out else "standard output"
        record(session, cli_actor(by), Action.EXPORT, f"list {list_name}", {"members": count, "to": where})
        session.commit()
    click.echo(f"Exported {count} members of {list_name} to {out or 'standard output'}.", err=True)


@subscribers.command("show")
@click.argument("email")
def subscribers_show(email: str) -> None:
    """Show what is kept about EMAIL: subscriptions, consent evidence, suppressions."""
    with _session() as session:
        detail = people.describe_subscriber(session, email)
        person = detail.subscriber
        if person is None:
            click.echo(f"{detail.email}: no subscriber (erased or never added)")
        else:
            click.echo(f"{person.email}  [{person.status}]  public id {person.public_id}")
            click.echo(f"  name: {person.name or '-'}")
            for key, value in sorted(person.attributes.items()):
                click.echo(f"  {key}: {value}")
            click.echo(f"  added {_when(person.created_at)}, updated {_when(person.updated_at)}")
        click.echo("Subscriptions:" if detail.subscriptions else "Subscriptions: none")
        for name, sub in detail.subscriptions:
            when = sub.unsubscribed_at if sub.status == "unsubscribed" else sub.subscribed_at
            click.echo(f"  {name}: {sub.status} since {_when(when or sub.created_at)}")
        click.echo("Consent evidence:" if detail.evidence else "Consent evidence: none")
        for row in detail.evidence:
            extra = ", ".join(
                f"{label} {value}"
                for label, value in (
                    ("ip", row.ip),
                    ("agent", row.user_agent),
                    ("text version", row.consent_version),
                )
                if value
            )
            source = f" ({row.source})" if row.source else ""
            line = f"  {_when(row.created_at)}  {row.action} by {row.method}{source}"
            click.echo(f"{line}; {extra}" if extra else line)
        click.echo("Suppressions:" if detail.suppressions else "Suppressions: none")
        for list_name, supp in detail.suppressions:
            scope = list_name or "all lists"
            click.echo(f"  {supp.reason} ({scope}) from {supp.source}, {_when(supp.created_at)}")


@subscribers.command("unsubscribe")
@click.argument("email")
@click.option("--list", "list_name", default=None, help="Only this list (default: every list).")
def subscribers_unsubscribe(email: str, list_name: str | None) -> None:
    """Unsubscribe EMAIL from one list or from everything."""
    with _session() as session:
        changed = people.unsubscribe_address(session, email, list_name)
    scope = list_name or "every list"
    address = normalise_email(email)
    verb = "Unsubscribed" if changed else "Already unsubscribed:"
    click.echo(f"{verb} {address} from {scope}.")


@subscribers.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@by_option
def subscribers_delete(email: str, yes: bool, by: str | None) -> None:
    """Erase EMAIL (GDPR): delete everything, keep only a hash so they are never mailed again."""
    address = normalise_email(email)
    if not yes:
        click.confirm(f"Erase {address} and all their data? This cannot be undone", abort=True)
    with _session() as session:
        existed = people.erase_subscriber(session, address, by=cli_actor(by))
    if existed:
        click.echo(f"Erased {address}; only a hashed suppression remains.")
    else:
        click.echo(f"No subscriber {address}; recorded a hashed suppression so it is never added.")
