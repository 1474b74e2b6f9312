"""A send report as JSON (one object, figures by name), tidy CSV (section,key,figure,value) or text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson

from newsletter.audience.csv_cells import escape_cell
from newsletter.reports.send_report import DOMAIN_FIGURES, SendReport


def to_dict(report: SendReport) -> dict[str, Any]:
    """The report as plain data; top-level keys are the figure names (recipients, delivered, ...)."""
    return {
        "send": {
            "id": report.send_id,
            "public_id": report.public_id,
            "issue": report.issue_slug,
            "subject": report.subject,
            "status": report.status,
            "started_at": _iso(report.started_at),
        },
        **report.figures,
        "statuses": report.statuses,
        "bounced_by_classification": report.bounced_by_classification,
        "clicks_per_link": [{"url": url, "clicks": n} for url, n in report.clicks_per_link],
        "other_events": report.other_events,
        "rates": report.rates,
        "by_domain": [
            {"domain": r.domain, "recipients": r.recipients, "accepted": r.accepted, **r.figures}
            for r in report.by_domain
        ],
        "over_time": [{"hour": h.hour, "start": _iso(h.start), **h.counts} for h in report.over_time],
        "alerts": report.alerts,
        "generated_at": _iso(report.generated_at),
    }


def to_json(report: SendReport) -> str:
    """One JSON object (indented)."""
    return orjson.dumps(to_dict(report), option=orjson.OPT_INDENT_2).decode()


def to_csv(report: SendReport) -> str:
    """Tidy CSV, one figure per line: section,key,figure,value; formula-like text cells are escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "figure", "value"])
    writer.writerows(tuple(_cell(value) for value in row) for row in _csv_rows(report))
    return out.getvalue()


def _cell(value: Any) -> Any:
    """Text cells escaped as the subscriber export does (a click URL may be `=HYPERLINK(...)`)."""
    return escape_cell(value) if isinstance(value, str) else value


def _csv_rows(report: SendReport) -> Iterator[tuple[str, str, str, Any]]:
    yield ("send", "", "id", report.send_id)
    yield ("send", "", "public_id", report.public_id)
    yield ("send", "", "issue", report.issue_slug)
    for name, value in report.figures.items():
        yield ("totals", "", name, value)
    for status, n in report.statuses.items():
        yield ("statuses", status, "deliveries", n)
    for name, n in report.bounced_by_classification.items():
        yield ("bounced_by_classification", name, "bounced", n)
    for url, n in report.clicks_per_link:
        yield ("clicks_per_link", url, "clicks", n)
    for kind, n in report.other_events.items():
        yield ("other_events", kind, "events", n)
    for name, rate in report.rates.items():
        yield ("rates", "", name, "" if rate is None else f"{rate:.6f}")
    for row in report.by_domain:
        yield ("by_domain", row.domain, "recipients", row.recipients)
        yield ("by_domain", row.domain, "accepted", row.accepted)
        for name, n in row.figures.items():
            yield ("by_domain", row.domain, name, n)
    for hour in report.over_time:
        for name, n in hour.counts.items():
            yield ("over_time", str(hour.hour), name, n)
    for line in report.alerts:
        yield ("alerts", "", "alert", line)


def to_table(report: SendReport) -> str:
    """A plain-text report for a terminal: totals, rates, bounces, links, domains, hours, alerts."""
    lines = [f"Send {report.send_id} ({report.public_id}) {report.issue_slug}: {report.subject}"]
    lines += [f"status {report.status}, started {_iso(report.started_at) or '-'}", ""]
    lines += report.alerts + ([""] if report.alerts else [])
    lines += _grid(("figure", "count", "rate"), _totals(report))
    lines += _section("Deliveries by status", ("status", "count"), list(report.statuses.items()))
    classes = list(report.bounced_by_classification.items())
    lines += _section("Bounces by classification", ("classification", "bounced"), classes)
    lines += _section("Clicks per link", ("link", "clicks"), report.clicks_per_link)
    domains = [
        (d.domain, d.recipients, d.accepted, *(d.figures[x] for x in DOMAIN_FIGURES))
        for d in report.by_domain
    ]
    head = ("domain", "recipients", "accepted", *DOMAIN_FIGURES)
    lines += _section("By mailbox provider", head, domains)
    cols = ("delivered", "opens", "machine_opens", "clicks", "hard_bounces", "spam_complaints")
    hours = [(h.hour, *(h.counts[c] for c in cols)) for h in report.over_time]
    lines += _section("Events per hour since the send started", ("hour", *cols), hours)
    return "\n".join(lines) + "\n"


def _totals(report: SendReport) -> list[tuple[str, int, str]]:
    f, r = report.figures, report.rates
    return [
        ("recipients", f["recipients"], ""),
        ("accepted", f["accepted"], ""),
        ("delivered", f["delivered"], _pct(r["delivery_rate"])),
        ("deferred", f["deferred"], f"{f['deferrals']} deferrals"),
        ("bounced", f["bounced"], _pct(r["bounce_rate"])),
        ("  hard bounces", f["hard_bounces"], _pct(r["hard_bounce_rate"])),
        ("  blocked", f["blocked"], ""),
        ("dropped", f["dropped"], _pct(r["drop_rate"])),
        ("unique opens", f["unique_opens"], _pct(r["open_rate"])),
        ("total opens", f["total_opens"], ""),
        ("unique machine opens", f["unique_machine_opens"], _pct(r["machine_open_rate"])),
        ("total machine opens", f["total_machine_opens"], ""),
        ("unique clicks", f["unique_clicks"], _pct(r["click_rate"])),
        ("total clicks", f["total_clicks"], _pct(r["click_to_open_rate"], "click-to-open")),
        ("unsubscribes", f["unsubscribes"], _pct(r["unsubscribe_rate"])),
        ("spam complaints", f["spam_complaints"], _pct(r["complaint_rate"])),
    ]


def _section(title: str, head: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    return ["", title, *_grid(head, rows)] if rows else []


def _grid(head: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    cells = [tuple(str(c) for c in head), *(tuple(str(c) for c in row) for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]

    def line(row: tuple[str, ...]) -> str:
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(cells[0]), "  ".join("-" * w for w in widths), *(line(row) for row in cells[1:])]


def _pct(rate: float | None, label: str = "") -> str:
    if rate is None:
        return ""
    return f"{rate:.2%} {label}".rstrip()


def _iso(when: Any) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None
