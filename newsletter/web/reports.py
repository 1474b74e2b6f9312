"""Staff report pages for a send under /admin/: HTML with SVG charts, and the same report as JSON or CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.reports.formats import to_csv, to_dict
from newsletter.reports.send_report import SendReport, build_report
from newsletter.services import Services
from newsletter.web.auth import page, require_staff
from newsletter.web.charts import BarChart, LineChart, bar_chart, line_chart

REPORT_PATH = "/admin/sends/{ref}/report"


def routes(services: Services) -> list[BaseRoute]:
    """GET /admin/sends/{ref}/report (HTML), .../report.json and .../report.csv; staff only."""

    def load(request: Request) -> SendReport:
        require_staff(request)
        with services.sessions() as session:
            return build_report(session, request.path_params["ref"])

    def report_page(request: Request) -> Response:
        report = load(request)
        context = {"report": report, "charts": charts(report)}
        return page(request, "reports/send.html", context)

    def report_json(request: Request) -> Response:
        return JSONResponse(to_dict(load(request)))

    def report_csv(request: Request) -> Response:
        report = load(request)
        filename = f"send-{report.send_id}-report.csv"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(to_csv(report), media_type="text/csv; charset=utf-8", headers=headers)

    return [
        Route(REPORT_PATH, report_page, name="send_report"),
        Route(REPORT_PATH + ".json", report_json, name="send_report_json"),
        Route(REPORT_PATH + ".csv", report_csv, name="send_report_csv"),
    ]


def charts(report: SendReport) -> dict[str, BarChart | LineChart]:
    """The page's charts: outcomes and engagement of accepted mail, domains, events per hour."""
    f, r = report.figures, report.rates
    outcomes = [
        ("delivered", f["delivered"], _pct(r["delivery_rate"])),
        ("deferred (at least once)", f["deferred"], ""),
        ("hard bounces", f["hard_bounces"], _pct(r["hard_bounce_rate"])),
        ("blocked", f["blocked"], ""),
        ("dropped", f["dropped"], _pct(r["drop_rate"])),
    ]
    engagement = [
        ("unique opens", f["unique_opens"], _pct(r["open_rate"])),
        ("unique machine opens", f["unique_machine_opens"], _pct(r["machine_open_rate"])),
        ("unique clicks", f["unique_clicks"], _pct(r["click_rate"])),
        ("unsubscribes", f["unsubscribes"], _pct(r["unsubscribe_rate"])),
        ("spam complaints", f["spam_complaints"], _pct(r["complaint_rate"])),
    ]
    domains = [(d.domain, d.recipients, _pct(d.rate("delivered"), "delivered")) for d in report.by_domain]
    hours = [h.hour for h in report.over_time]
    names = {
        "opens": "opens",
        "machine_opens": "machine opens",
        "clicks": "clicks",
        "unsubscribes": "unsubscribes",
    }
    series = {label: [h.counts[key] for h in report.over_time] for key, label in names.items()}
    return {
        "outcomes": bar_chart("Outcome of accepted mail", outcomes, scale=f["accepted"]),
        "engagement": bar_chart("Engagement (of delivered mail)", engagement, scale=f["delivered"]),
        "domains": bar_chart("Recipients by mailbox provider", domains),
        "over_time": line_chart("Engagement per hour since the send started", hours, series),
    }


def _pct(rate: float | None, label: str = "") -> str:
    return "" if rate is None else f"{rate:.2%} {label}".rstrip()
