"""The `newsletter` command: a thin shell over the stage functions; errors become messages here."""

from __future__ import annotations

import sys
from typing import Any

import click

from newsletter import __version__
from newsletter.errors import ContentError, NewsletterError


class NewsletterGroup(click.Group):
    """A click group that turns domain errors into a message and exit status 1."""

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


@click.group(cls=NewsletterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
def main() -> None:
    """Write, render, send and report on a publication's email issues."""


from newsletter.cli import content as _content  # noqa: E402

_content.register(main)

from newsletter.cli import audience as _audience  # noqa: E402

_audience.register(main)

from newsletter.cli import sends as _sends  # noqa: E402

_sends.register(main)

from newsletter.cli import demo as _demo  # noqa: E402

_demo.register(main)

from newsletter.cli import reports as _reports  # noqa: E402

_reports.register(main)

from newsletter.cli import users as _users  # noqa: E402

_users.register(main)
