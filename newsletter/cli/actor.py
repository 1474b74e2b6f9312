"""Who runs a CLI command, for the audit log: `--by NAME`, else the operating-system user, on this host."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable
from typing import Any, TypeVar

import click

from newsletter.db.audit import Actor

F = TypeVar("F", bound=Callable[..., Any])


def by_option(command: F) -> F:
    """Add `--by NAME` (who to record in the audit log) to a command."""
    option = click.option(
        "--by",
        "by",
        default=None,
        metavar="NAME",
        help="Who to record in the audit log (default: your OS user).",
    )
    return option(command)


def cli_actor(by: str | None) -> Actor:
    """The audit actor of this command: `--by`, else the OS user; from this host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "unknown"
    return Actor(by.strip() if by and by.strip() else user, "cli", socket.gethostname())
