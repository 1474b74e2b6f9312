"""CLI commands for staff accounts: `users add EMAIL --role ROLE` (password prompted or from stdin)."""

from __future__ import annotations

import sys

import click

from newsletter import services
from newsletter.staff import STAFF_ROLES, add_user


@click.group("users")
def users_group() -> None:
    """Staff accounts for the web app."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True, help="What the person may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_command(email: str, role: str, password_stdin: bool) -> None:
    """Add a staff account EMAIL with ROLE (or reset its password and role)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with services.build() as svc:
        svc.check_database()
        with svc.sessions() as session:
            staff = add_user(session, email, role, password)
    click.echo(f"{staff.email}: {staff.role}")
