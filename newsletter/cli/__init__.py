"""The `newsletter` command: a thin shell over the stage functions; errors become messages here."""

from __future__ import annotations

import sys
from typing import Any

import click

from newsletter import __version__
from newsletter.cli.lazy import LazyCommand, LazyGroup
from newsletter.errors import ContentError, NewsletterError

COMMANDS = {
    "check": LazyCommand(
        "newsletter.cli.content:check",
        "Validate and lint issue files (or every *.yaml in a folder); exit 1 on any error.",
    ),
    "render": LazyCommand(
        "newsletter.cli.content:render",
        "Render an issue with a sample recipient merged in: <slug>.html, .txt and a complete .eml.",
    ),
    "schema": LazyCommand(
        "newsletter.cli.schema:schema",
        "Print or write the JSON Schema of issue files (or publication files), generated from the models.",
    ),
    "preview": LazyCommand(
        "newsletter.cli.preview:preview",
        "Serve a live preview of ISSUE on 127.0.0.1 that re-renders and reloads on every save.",
    ),
    "db": LazyCommand(
        "newsletter.cli.audience:db", "Create or migrate the database (NEWSLETTER_DATABASE_URL)."
    ),
    "lists": LazyCommand("newsletter.cli.audience:lists", "Create and list mailing lists."),
    "subscribers": LazyCommand(
        "newsletter.cli.audience:subscribers", "Add, import, export, show, unsubscribe and erase subscribers."
    ),
    "segments": LazyCommand(
        "newsletter.cli.segments:segments_group",
        "Saved segments: filters on subscribers' attributes, lists, dates and engagement.",
    ),
    "send": LazyCommand(
        "newsletter.cli.sends:send_command",
        "Schedule ISSUE for lists (now or --at), or send a test; prints the send's id last.",
    ),
    "sends": LazyCommand(
        "newsletter.cli.sends:sends_command", "Table of sends with their state and progress."
    ),
    "pause": LazyCommand("newsletter.cli.sends:pause_command", "Pause a send after the batch in flight."),
    "resume": LazyCommand("newsletter.cli.sends:resume_command", "Resume a paused send where it stopped."),
    "cancel": LazyCommand("newsletter.cli.sends:cancel_command", "Cancel a send; nobody else is mailed."),
    "reconcile": LazyCommand(
        "newsletter.cli.sends:reconcile_command",
        "Show unknown outcomes of a send; with --requeue-unknown, queue again those settled without events.",
    ),
    "retry-failed": LazyCommand(
        "newsletter.cli.sends:retry_failed_command",
        "Queue a send's failed deliveries again, once the cause is fixed (a failed one was never accepted).",
    ),
    "worker": LazyCommand(
        "newsletter.cli.sends:worker_command",
        "Run due sends (resuming interrupted ones); keeps running unless --once; stops cleanly on SIGTERM.",
    ),
    "demo": LazyCommand(
        "newsletter.cli.demo:demo_command",
        "Create the database, load sample readers, render the sample issue, send it through the outbox.",
    ),
    "report": LazyCommand(
        "newsletter.cli.reports:report_command",
        "Delivery report of SEND (id or public id): outcomes, engagement, rates, domains, hours, alerts.",
    ),
    "serve": LazyCommand(
        "newsletter.cli.reports:serve_command",
        "Run the web app (POST /webhooks/sendgrid, report pages) with uvicorn.",
    ),
    "users": LazyCommand("newsletter.cli.users:users_group", "Staff accounts for the web app."),
    "audit": LazyCommand(
        "newsletter.cli.audit:audit_command",
        "Show the audit log of staff actions, newest first: when, who (kind, from where), action, target.",
    ),
}
"""Every top-level command: its module is imported only when the command runs (tests check the help lines)."""


class NewsletterGroup(LazyGroup):
    """A click group that turns domain errors into a message and exit status 1.

    Also a file that cannot be read or written, and a database that fails mid-command (the commands
    check it before they start), so nothing a user can cause ends in a traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ContentError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(1)
        except NewsletterError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)
        except Exception as exc:
            database = sys.modules.get("sqlalchemy.exc")  # loaded if the error can be one of its
            if database is None or not isinstance(exc, database.OperationalError):
                raise
            reason = str(exc.orig or exc).strip().splitlines()[0]
            click.echo(f"error: NEWSLETTER_DATABASE_URL: the database failed: {reason}", err=True)
            sys.exit(1)


@click.group(
    cls=NewsletterGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="newsletter")
def main() -> None:
    """Write, render, send and report on a publication's email issues."""
