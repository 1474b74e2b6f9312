"""`newsletter audit`: the audit log of staff actions, newest first, filtered by time, person and action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import orjson

from newsletter import clock, services
from newsletter.db.audit import Action, entries
from newsletter.errors import ConfigError

UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str) -> datetime:
    """`7d`, `12h`, `30m` (that long ago) or a date/time like 2026-12-01 or 2026-12-01 07:00 (UTC)."""
    value = text.strip()
    if value[:-1].isdecimal() and value[-1:] in UNITS:
        return clock.now() - timedelta(**{UNITS[value[-1]]: int(value[:-1])})
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--since: cannot read {text!r}; write 7d, 12h, 30m or 2026-12-01 07:00") from None
    return when if when.utcoffset() is not None else when.replace(tzinfo=UTC)


@click.command("audit")
@click.option("--since", default=None, help="Only from then on: 7d, 12h, 30m, or a UTC date/time.")
@click.option("--user", default=None, help="Only this person (a staff email, an OS user or a --by name).")
@click.option("--action", "actions", multiple=True, type=click.Choice([a.value for a in Action]),
              help="Only this action (repeat for several).")  # fmt: skip
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
def audit_command(since: str | None, user: str | None, actions: tuple[str, ...], limit: int) -> None:
    """Show the audit log of staff actions, newest first: when, who (kind, from where), action, target."""
    start = parse_since(since) if since else None
    with services.build() as svc:
        svc.check_database()
        with svc.sessions() as session:
            rows = entries(session, since=start, actor=user, actions=actions, limit=limit)
            lines = [
                "  ".join(
                    [
                        row.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                        f"{row.actor} ({row.actor_kind}{', ' + row.address if row.address else ''})",
                        row.action,
                        row.target,
                        orjson.dumps(row.detail).decode() if row.detail else "",
                    ]
                ).rstrip()
                for row in rows
            ]
    if not lines:
        click.echo("No audit entries match.")
        return
    click.echo("when (UTC)           who (kind, from)  action  target  detail")
    for line in lines:
        click.echo(line)
