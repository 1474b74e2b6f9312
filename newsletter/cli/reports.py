"""CLI commands for reports and the web app: `report SEND --format table|csv|json`, `serve`."""

from __future__ import annotations

import logging

import click
import uvicorn

from newsletter import logs, services
from newsletter.events.sendgrid_webhook import load_public_key
from newsletter.reports.formats import to_csv, to_json, to_table
from newsletter.reports.send_report import DOMAINS, build_report

FORMATTERS = {"table": to_table, "csv": to_csv, "json": to_json}
APP_FACTORY = "newsletter.web.app:app_from_environment"
"""Named, not imported: the web shell and the CLI are independent siblings (import-linter)."""


@click.command("report")
@click.argument("send")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATTERS)), default="table", show_default=True)
@click.option(
    "--domains", default=DOMAINS, show_default=True, help="Largest domains listed; the rest are (other)."
)
def report_command(send: str, fmt: str, domains: int) -> None:
    """Delivery report of SEND (id or public id): outcomes, engagement, rates, domains, hours, alerts."""
    with services.ready() as svc, svc.sessions() as session:
        report = build_report(session, send, domains=domains)
    click.echo(FORMATTERS[fmt](report), nl=fmt == "json")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--log-level", default="info", show_default=True, help="uvicorn log level.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1), help="uvicorn worker processes."
)
def serve_command(host: str, port: int, log_level: str, workers: int) -> None:
    """Run the web app (POST /webhooks/sendgrid, report pages) with uvicorn."""
    with services.ready() as svc:  # a wrong setting or an unusable database stops here, in one line
        key = svc.settings.sendgrid_webhook_public_key
        if key:
            load_public_key(key)
        logs.configure(svc.settings.log_format)
        if not key:
            logging.getLogger("newsletter.web").warning(
                "SENDGRID_WEBHOOK_PUBLIC_KEY is not set; the webhook answers 503"
            )
        json_logs = svc.settings.log_format == "json"
    uvicorn.run(
        APP_FACTORY, factory=True, host=host, port=port, log_level=log_level, workers=workers,
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,  # JSON: through our handler
    )  # fmt: skip
