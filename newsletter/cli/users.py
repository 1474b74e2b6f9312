"""CLI commands for staff accounts: add, list, deactivate, activate, set-role, reset-password, reset-totp,
require-totp. Each change is recorded in the audit log (the OS user, or `--by`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from newsletter import services
from newsletter.cli.actor import by_option, cli_actor
from newsletter.staff import STAFF_ROLES, accounts, totp


@contextmanager
def _session() -> Iterator[Session]:
    with services.build() as svc:
        svc.check_database()
        with svc.sessions() as session:
            yield session


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("users")
def users_group() -> None:
    """Staff accounts for the web app."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True, help="What the person may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@by_option
def add_command(email: str, role: str, password_stdin: bool, by: str | None) -> None:
    """Add a staff account EMAIL with ROLE (or reset its password and role, ending its sessions)."""
    password = _password(password_stdin)
    with _session() as session:
        staff = accounts.add_user(session, email, role, password, by=cli_actor(by))
    click.echo(f"{staff.email}: {staff.role}")


@users_group.command("list")
def list_command() -> None:
    """Every staff account: role, active, second factor, last sign-in."""
    with _session() as session:
        rows = accounts.list_users(session)
    if not rows:
        click.echo("No staff accounts yet; add one with `newsletter users add EMAIL --role admin`.")
        return
    width = max(len("email"), *(len(r.email) for r in rows))
    click.echo(f"{'email':<{width}}  {'role':<10}  {'active':<6}  totp  last sign-in (UTC)")
    for r in rows:
        last = r.last_login_at.strftime("%Y-%m-%d %H:%M") if r.last_login_at else "-"
        active = "yes" if r.active else "no"
        click.echo(
            f"{r.email:<{width}}  {r.role:<10}  {active:<6}  {'on' if r.has_totp else 'off':<4}  {last}"
        )


@users_group.command("deactivate")
@click.argument("email")
@by_option
def deactivate_command(email: str, by: str | None) -> None:
    """Deactivate EMAIL: they cannot sign in, and their open sessions end at once."""
    with _session() as session:
        staff = accounts.set_active(session, email, False, by=cli_actor(by))
    click.echo(f"{staff.email}: deactivated; open sessions ended")


@users_group.command("activate")
@click.argument("email")
@by_option
def activate_command(email: str, by: str | None) -> None:
    """Activate EMAIL again."""
    with _session() as session:
        staff = accounts.set_active(session, email, True, by=cli_actor(by))
    click.echo(f"{staff.email}: active")


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(STAFF_ROLES))
@by_option
def set_role_command(email: str, role: str, by: str | None) -> None:
    """Give EMAIL another ROLE (applies to their open sessions at once)."""
    with _session() as session:
        staff = accounts.set_role(session, email, role, by=cli_actor(by))
    click.echo(f"{staff.email}: {staff.role}")


@users_group.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@by_option
def reset_password_command(email: str, password_stdin: bool, by: str | None) -> None:
    """Set a new password for EMAIL; their open sessions end."""
    password = _password(password_stdin)
    with _session() as session:
        staff = accounts.reset_password(session, email, password, by=cli_actor(by))
    click.echo(f"{staff.email}: password reset; open sessions ended")


@users_group.command("reset-totp")
@click.argument("email")
@by_option
def reset_totp_command(email: str, by: str | None) -> None:
    """Remove EMAIL's second factor and recovery codes (a lost phone); they can set it up again."""
    with _session() as session:
        totp.reset_totp(session, email, by=cli_actor(by))
    click.echo(f"{email.strip().lower()}: second factor removed")


@users_group.command("require-totp")
@click.argument("state", type=click.Choice(["on", "off"]))
@by_option
def require_totp_command(state: str, by: str | None) -> None:
    """Require a second factor (TOTP) for every account (on), or leave it to each person (off)."""
    with _session() as session:
        totp.require_totp(session, state == "on", by=cli_actor(by))
    click.echo(f"second factor required for everyone: {state}")
