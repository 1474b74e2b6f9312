"""CLI commands for sends: send (schedule or test), sends, pause, resume, cancel, reconcile, worker."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from newsletter import services
from newsletter.cli.actor import by_option, cli_actor
from newsletter.db.audit import Action, Actor, record
from newsletter.schedule import sends as sending

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from newsletter.deliver.engine.run import Progress as RunProgress
    from newsletter.deliver.engine.run import SendRunner
    from newsletter.worker import ProgressFor

BATCH_SIZE = 1000
"""`worker --batch-size` default: `RunOptions.batch_size`, repeated so no runner is imported (tested)."""

REFUSALS = 3
"""`worker --pause-after-refusals` default: `RunOptions.refused_batches_before_pause`, repeated likewise."""
HEARTBEAT = 10.0
"""`worker --heartbeat` default: `RunOptions.heartbeat_seconds`, repeated likewise."""

console = Console(stderr=True)


def make_runner(
    svc: services.Services,
    transport_name: str | None = None,
    *,
    batch_size: int | None = None,
    refusals: int | None = None,
    heartbeat: float | None = None,
) -> SendRunner:
    """A runner for this process over the configured (or named) transport; checks the settings first.

    A send recorded with another transport gets that one, built from the same settings (or fails).
    """
    from newsletter.deliver.engine.claims import worker_identity
    from newsletter.deliver.engine.run import RunOptions, SendRunner

    transport = svc.ready_to_send(transport_name)
    options = RunOptions()
    if batch_size is not None:
        options = replace(options, batch_size=batch_size)
    if refusals is not None:
        options = replace(options, refused_batches_before_pause=refusals)
    if heartbeat is not None:
        options = replace(options, heartbeat_seconds=heartbeat)
    return SendRunner(
        svc.sessions, transport, svc.tokens, worker_identity(), options, transports=svc.transport
    )


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Progress | None]:
    """Rich progress bars on stderr, or None when disabled or not a terminal."""
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bars:
        yield bars


def progress_callbacks(bars: Progress | None) -> ProgressFor | None:
    """progress_for(send_id) → a callback drawing that send's bar; None without bars."""
    if bars is None:
        return None
    tasks: dict[int, TaskID] = {}

    def for_send(send_id: int) -> RunProgress:
        def update(done: int, total: int) -> None:
            if send_id not in tasks:
                tasks[send_id] = bars.add_task(f"send {send_id}", total=total)
            bars.update(tasks[send_id], completed=done, total=total)

        return update

    return for_send


@click.command("send")
@click.argument("issue", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "lists", multiple=True, help="List to send to (repeat for several).")
@click.option("--at", "at", help='When, e.g. "2026-12-01 07:00" (publication time zone unless --tz).')
@click.option("--tz", help="Time zone for --at (IANA name); default: the publication's.")
@click.option("--test-to", help="Send now, only to these comma-separated addresses, marked as a test.")
@click.option("--hide-from-archive", is_flag=True, help="Keep this send out of the public archive and feed.")
@by_option
def send_command(
    issue: Path,
    lists: tuple[str, ...],
    at: str | None,
    tz: str | None,
    test_to: str | None,
    hide_from_archive: bool,
    by: str | None,
) -> None:
    """Schedule ISSUE for lists (now or --at), or send a test; prints the send's id last."""
    from newsletter.schedule.scheduling import schedule_issue, time_zone

    if tz:
        time_zone(tz)  # a wrong zone stops here, before anything is read or checked
    with services.build() as svc:
        svc.ready_to_send().close()  # a wrong setting stops here, before anything is scheduled
        actor = cli_actor(by)
        if test_to:
            _test_send(svc, issue, test_to.split(","), actor)
            return
        scheduled = schedule_issue(
            svc.sessions, svc.engine, issue, list_names=lists, at=at, zone=tz,
            transport=svc.settings.transport, actor=actor, hide_from_archive=hide_from_archive,
        )  # fmt: skip
        targets = ", ".join(scheduled.lists)
        click.echo(
            f"scheduled {scheduled.slug} to {targets} ({scheduled.recipients} recipients now) "
            f"for {scheduled.at:%Y-%m-%d %H:%M %Z}"
        )
        click.echo(scheduled.send_id)


def _test_send(svc: services.Services, issue: Path, addresses: list[str], actor: Actor) -> None:
    """Send ISSUE now to `addresses` only, marked as a test; prints the outcome, then the send's id."""
    from newsletter.content.load import load_issue
    from newsletter.render import render_issue

    loaded = load_issue(issue)
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    with svc.sessions.begin() as session:
        send = sending.create_test_send(
            session, rendered, loaded.publication, addresses=addresses, transport=svc.settings.transport,
            created_by=actor.name, limit=svc.settings.test_send_max_recipients,
        )  # fmt: skip
        record(session, actor, Action.SEND_TEST, f"send {send.id}",
               {"issue": loaded.slug, "to": send.test_recipients})  # fmt: skip
    with closing(make_runner(svc)) as runner:
        report = runner.run(send.id)
    click.echo(f"test send {send.id}: {_counts(report.counts)} to {', '.join(send.test_recipients)}")
    click.echo(send.id)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"


@click.command("sends")
@click.option("--limit", default=30, show_default=True, help="How many of the newest sends to show.")
def sends_command(limit: int) -> None:
    """Table of sends with their state and progress."""
    with services.ready() as svc, svc.sessions() as session:
        rows = sending.summaries(session, limit=limit)
    table = Table(
        "id",
        "issue",
        "lists",
        "status",
        "scheduled (UTC)",
        "progress",
        "accepted",
        "failed",
        "unknown",
        "skipped",
    )
    for row in rows:
        when = row.send.scheduled_at.strftime("%Y-%m-%d %H:%M") if row.send.scheduled_at else ""
        lists = row.targets
        outcomes = [str(row.counts.get(state, 0)) for state in ("accepted", "failed", "unknown", "skipped")]
        progress = f"{row.done}/{row.total}"
        table.add_row(
            str(row.send.id), row.send.issue_slug, lists, row.send.status, when, progress, *outcomes
        )
    Console().print(table)


STATE_ACTIONS = {"pause": Action.SEND_PAUSE, "resume": Action.SEND_RESUME, "cancel": Action.SEND_CANCEL}


def _state_command(name: str, action: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("send")
    @by_option
    def command(send: str, by: str | None) -> None:
        with services.ready() as svc:
            with svc.sessions.begin() as session:
                row = getattr(sending, action)(session, send)
                status = row.status
                record(session, cli_actor(by), STATE_ACTIONS[action], f"send {row.id}")
            if action == "resume":
                from newsletter.schedule.wakeups import add_wakeup  # APScheduler: only when resuming

                add_wakeup(svc.engine, row)  # after the commit: the job store writes on its own connection
        click.echo(f"send {row.id} is {status}")

    return command


pause_command = _state_command("pause", "pause", "Pause a send after the batch in flight.")
resume_command = _state_command("resume", "resume", "Resume a paused send where it stopped.")
cancel_command = _state_command("cancel", "cancel", "Cancel a send; nobody else is mailed.")


@click.command("reconcile")
@click.argument("send")
@click.option(
    "--requeue-unknown", is_flag=True, help="Send again to recipients whose outcome stayed unknown."
)
@click.option(
    "--settled-hours",
    type=click.FloatRange(min=0),
    default=24.0,
    show_default=True,
    help="Requeue only deliveries whose request is at least this old (events may still be coming).",
)
@by_option
def reconcile_command(send: str, requeue_unknown: bool, settled_hours: float, by: str | None) -> None:
    """Show unknown outcomes of a send; with --requeue-unknown, queue again those settled without events."""
    from datetime import timedelta

    if requeue_unknown and settled_hours < 24:
        click.echo(
            f"warning: requeuing deliveries unknown for only {settled_hours:g} hours: SendGrid may still "
            "report some as accepted (it retries its events for 24 hours); those would be mailed twice",
            err=True,
        )
    with services.ready() as svc, svc.sessions.begin() as session:
        found = sending.reconcile_unknown(
            session, send, requeue=requeue_unknown, settled_after=timedelta(hours=settled_hours)
        )
        if found.requeued:
            target = f"send {sending.get_send(session, send).id}"
            record(session, cli_actor(by), Action.SEND_REQUEUE, target, {"requeued": found.requeued})
    click.echo(f"{found.unknown} unknown; {found.requeued} queued again")
    if found.too_recent:
        click.echo(f"{found.too_recent} left: their request is under {settled_hours:g} hours old")
    if found.with_events:
        click.echo(f"{found.with_events} left: the provider reported on them (they were accepted)")


@click.command("retry-failed")
@click.argument("send")
@by_option
def retry_failed_command(send: str, by: str | None) -> None:
    """Queue a send's failed deliveries again, once the cause is fixed (a failed one was never accepted)."""
    with services.ready() as svc:
        with svc.sessions.begin() as session:
            row, count = sending.retry_failed(session, send)
            status = row.status
            if count:
                record(
                    session, cli_actor(by), Action.SEND_RETRY_FAILED, f"send {row.id}", {"requeued": count}
                )
        if count:
            from newsletter.schedule.wakeups import add_wakeup

            add_wakeup(svc.engine, row)
    click.echo(f"send {row.id}: {count} failed deliveries queued again; it is {status}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every due or interrupted send to the end, then exit.")
@click.option("--poll", default=15.0, show_default=True, help="Seconds between checks for due sends.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=BATCH_SIZE,
    show_default=True,
    help="Recipients claimed per batch (the transport may send fewer per request).",
)
@click.option(
    "--pause-after-refusals",
    "refusals",
    type=click.IntRange(min=1),
    default=REFUSALS,
    show_default=True,
    help="Pause a send after this many batches in a row refused whole by the provider.",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.1),
    default=HEARTBEAT,
    show_default=True,
    help="Seconds between this worker's heartbeats; its claims are recovered after two missed ones.",
)
def worker_command(
    once: bool, poll: float, quiet: bool, batch_size: int, refusals: int, heartbeat: float
) -> None:
    """Run due sends (resuming interrupted ones); keeps running unless --once; stops cleanly on SIGTERM."""
    from newsletter import logs
    from newsletter.deliver.engine.heartbeat import Heartbeat
    from newsletter.worker import Worker, run_due

    with services.build() as svc, progress_bars(not quiet) as bars:
        logs.configure(
            svc.settings.log_format, logging.WARNING if once else logging.INFO
        )  # --once: problems only
        runner = make_runner(svc, batch_size=batch_size, refusals=refusals, heartbeat=heartbeat)
        worker = Worker(svc, runner, poll_seconds=poll)
        worker.install_signal_handlers()
        beating = Heartbeat(svc.sessions, runner.worker_id, heartbeat)
        if once:
            with closing(runner), beating:  # also after SIGTERM: run_due returns after the batch in flight
                reports = run_due(svc, runner, progress_callbacks(bars), wait_for_others=True)
            for report in reports:
                click.echo(f"send {report.send_id}: {report.status} ({_counts(report.counts)})")
                if report.error:
                    click.echo(f"error: {report.error}", err=True)
            if any(report.error for report in reports):
                sys.exit(1)
            return
        logging.getLogger("newsletter.worker").info(
            "worker %s running; transport %s", runner.worker_id, svc.settings.transport,
            extra={"worker": runner.worker_id, "transport": svc.settings.transport},
        )  # fmt: skip
        with beating:
            worker.serve(progress_callbacks(bars))  # closes the runner's transports when it stops
