"""`newsletter demo`: the main job on a fresh machine: database, sample readers, render, outbox send."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import click

from newsletter import services
from newsletter.audience.csvimport.importer import import_csv
from newsletter.audience.people.lists import create_list, get_list
from newsletter.cli.sends import make_runner, progress_bars, progress_callbacks
from newsletter.config import PROJECT_ROOT, load_settings
from newsletter.content.load import load_issue
from newsletter.db.migrate import upgrade
from newsletter.errors import NotFound
from newsletter.render import render_issue
from newsletter.schedule.sends import create_send, summary

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kira", "Luis"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Patel", "Nakamura", "Schulz", "Rossi", "Walsh", "Duarte", "Kim"]
DOMAINS = ["example.org", "example.com", "example.net", "mail.example.org"]
DEMO_LIST = "e-alert"


def write_sample_subscribers(path: Path, count: int = 240) -> Path:
    """A CSV of fictional readers (fixed seed) with two bad rows and a duplicate, to show the rejects."""
    rng = random.Random(20261123)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["email", "name", "state"])
        rows = []
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}{n}@{rng.choice(DOMAINS)}".lower()
            rows.append([email, f"{first} {last}", rng.choice(["MD", "VA", "PA", "NY"])])
        out.writerows(rows)
        out.writerow(["not-an-address", "Broken Row", "MD"])
        out.writerow(["someone@", "Half An Address", "VA"])
        out.writerow([rows[0][0].upper(), rows[0][1], "MD"])  # the same person again, shouting
    return path


@click.command("demo")
@click.option("--issue", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=PROJECT_ROOT / "issues" / "2026-11-20-muscle-loss-culprit.yaml", show_default=True,
              help="The issue to send.")  # fmt: skip
def demo_command(issue: Path) -> None:
    """Create the database, load sample readers, render the sample issue, send it through the outbox."""
    settings = load_settings()
    if (key_file := settings.ensure_secret_key_file()) is not None:
        click.echo(f"created a signing key in {key_file} (set NEWSLETTER_SECRET_KEY in production)")
    with services.build(settings) as svc:
        revision = upgrade(svc.engine)
        click.echo(f"database {settings.database_url} at revision {revision}")
        with svc.sessions() as session:
            try:
                get_list(session, DEMO_LIST)
            except NotFound:
                create_list(session, DEMO_LIST, description="The daily e-Alert")
            sample = write_sample_subscribers(Path("var/demo/subscribers.csv"))
            report = import_csv(session, sample, DEMO_LIST)
        click.echo(
            f"imported {sample}: {report.rows} rows, {report.added} added, {report.unchanged} unchanged, "
            f"{report.merged} merged, {report.rejected} rejected (see {report.rejects_path})"
        )
        loaded = load_issue(issue)
        rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
        size = len(rendered.html.encode()) / 1024
        click.echo(f"rendered {loaded.slug}: {size:.1f} KB HTML, sha256 {rendered.sha256[:12]}")
        with svc.sessions.begin() as session:
            send = create_send(
                session, rendered, loaded.publication, list_names=[DEMO_LIST], transport="outbox"
            )
        with progress_bars(True) as bars:
            progress = progress_callbacks(bars)
            result = make_runner(svc, "outbox").run(send.id, progress(send.id) if progress else None)
        folder = settings.outbox_dir / f"send-{send.id}"
        with svc.sessions() as session:
            counts = summary(session, send.id).counts
        click.echo(f"send {send.id} {result.status}: {counts.get('accepted', 0)} messages in {folder}/")
        for state, n in sorted(counts.items()):
            click.echo(f"  {state:9} {n}")
        click.echo(f"open one: {next(iter(sorted(folder.glob('*.eml'))), folder)}")
