"""One send's delivery report: recipients, provider outcomes, engagement, rates, domains, hours, alerts.

Figures come from two places, both read with a handful of indexed queries whatever the send's size:
delivery rows grouped by (domain, status) for recipients and acceptance, and the `send_counters` rows
that event ingestion keeps (newsletter.events.ingest) for everything SendGrid reported. Message
figures (delivered, bounced, unique opens...) count each delivery once; `total_*` and `deferrals`
count events. Machine opens (sg_machine_open, e.g. Apple Mail Privacy Protection) are counted apart
from opens. Hour 0 of `over_time` is the clock hour (UTC) the send started in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.tables import Delivery, SendCounter
from newsletter.events import kinds
from newsletter.schedule.sends import get_send

COMPLAINT_ALERT: Final = 0.003
"""Spam complaints above 0.3% of delivered mail: the Gmail/Yahoo bulk-sender limit."""
HARD_BOUNCE_ALERT: Final = 0.02
"""Hard bounces above 2% of accepted mail."""
DOMAINS: Final = 20
LINKS: Final = 50

HOURLY: Final = {
    "processed": "processed",
    "delivered": "delivered",
    "deferred": "deferrals",
    "hard_bounce": "hard_bounces",
    "blocked": "blocked",
    "dropped": "dropped",
    "open": "opens",
    "machine_open": "machine_opens",
    "click": "clicks",
    "unsubscribe": "unsubscribes",
    "group_unsubscribe": "group_unsubscribes",
    "spamreport": "spam_complaints",
}
"""Event kind → its column in `over_time` (events per hour)."""
DOMAIN_FIGURES: Final = ("delivered", "deferred", "bounced", "dropped", "unique_opens", "unique_clicks")
DOMAIN_FIGURES_ALL: Final = (*DOMAIN_FIGURES, "unsubscribes", "spam_complaints")


@dataclass(frozen=True)
class DomainRow:
    """One mailbox provider (recipient domain): recipients, accepted, and message figures."""

    domain: str
    recipients: int
    accepted: int
    figures: dict[str, int]

    def rate(self, figure: str, of: str = "accepted") -> float | None:
        """figure / (accepted or another figure), None when that is 0."""
        base = self.accepted if of == "accepted" else self.figures.get(of, 0)
        return ratio(self.figures.get(figure, 0), base)


@dataclass(frozen=True)
class HourRow:
    """Events in one hour since the send started (hour 0: the hour it started in)."""

    hour: int
    start: datetime
    counts: dict[str, int]


@dataclass(frozen=True)
class SendReport:
    """Every figure of one send's report; `figures` holds the scalar ones by their documented names."""

    send_id: int
    public_id: str
    issue_slug: str
    subject: str
    status: str
    started_at: datetime | None
    generated_at: datetime
    figures: dict[str, int]
    statuses: dict[str, int]
    bounced_by_classification: dict[str, int]
    clicks_per_link: list[tuple[str, int]]
    other_events: dict[str, int]
    rates: dict[str, float | None]
    by_domain: list[DomainRow]
    over_time: list[HourRow]
    alerts: list[str] = field(default_factory=list)


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when whole is 0."""
    return part / whole if whole else None


def build_report(
    session: Session, ref: str | int, *, domains: int = DOMAINS, links: int = LINKS
) -> SendReport:
    """The report of send `ref` (id or public id): NotFound if there is none."""
    send = get_send(session, ref)
    statuses, domain_rows = _deliveries(session, send.id, domains)
    counters = _counters(session, send.id)
    unique = counters.get("unique", {})
    events = counters.get("events", {})
    figures = {
        "recipients": sum(statuses.values()),
        "accepted": statuses.get("accepted", 0),
        **{name: unique.get(name, 0) for name in kinds.UNIQUE_FIGURES},
        "deferrals": events.get("deferred", 0),
        "total_opens": events.get("open", 0),
        "total_machine_opens": events.get("machine_open", 0),
        "total_clicks": events.get("click", 0),
    }
    started = send.started_at or send.scheduled_at or send.created_at
    link_counts = sorted(counters.get("link", {}).items(), key=lambda item: (-item[1], item[0]))
    report = SendReport(
        send_id=send.id,
        public_id=send.public_id,
        issue_slug=send.issue_slug,
        subject=send.subject,
        status=send.status,
        started_at=send.started_at,
        generated_at=clock.now(),
        figures=figures,
        statuses=statuses,
        bounced_by_classification=dict(sorted(counters.get("bounce_class", {}).items())),
        clicks_per_link=link_counts[:links],
        other_events={k: n for k, n in sorted(events.items()) if k not in kinds.BITS},
        rates=rates(figures),
        by_domain=_by_domain(session, send.id, domain_rows, figures),
        over_time=_over_time(counters, started),
    )
    report.alerts.extend(alerts(report.rates))
    return report


def rates(figures: dict[str, int]) -> dict[str, float | None]:
    """The report's rates: delivery outcomes over accepted mail, engagement over delivered mail."""
    accepted, delivered = figures["accepted"], figures["delivered"]
    return {
        "delivery_rate": ratio(figures["delivered"], accepted),
        "bounce_rate": ratio(figures["bounced"], accepted),
        "hard_bounce_rate": ratio(figures["hard_bounces"], accepted),
        "drop_rate": ratio(figures["dropped"], accepted),
        "open_rate": ratio(figures["unique_opens"], delivered),
        "machine_open_rate": ratio(figures["unique_machine_opens"], delivered),
        "click_rate": ratio(figures["unique_clicks"], delivered),
        "click_to_open_rate": ratio(figures["unique_clicks"], figures["unique_opens"]),
        "unsubscribe_rate": ratio(figures["unsubscribes"], delivered),
        "complaint_rate": ratio(figures["spam_complaints"], delivered),
    }


def alerts(rates: dict[str, float | None]) -> list[str]:
    """Alert lines for rates over the bulk-sender limits (complaints 0.3%, hard bounces 2%)."""
    out = []
    complaints, hard = rates["complaint_rate"], rates["hard_bounce_rate"]
    if complaints is not None and complaints > COMPLAINT_ALERT:
        out.append(
            f"ALERT: spam complaints are {complaints:.2%} of delivered mail, over the "
            f"{COMPLAINT_ALERT:.1%} Gmail/Yahoo bulk-sender limit"
        )
    if hard is not None and hard > HARD_BOUNCE_ALERT:
        out.append(f"ALERT: hard bounces are {hard:.2%} of accepted mail, over {HARD_BOUNCE_ALERT:.0%}")
    return out


def _deliveries(
    session: Session, send_id: int, limit: int
) -> tuple[dict[str, int], list[tuple[str, int, int]]]:
    """Deliveries per status, and the `limit` largest domains as (domain, recipients, accepted)."""
    query = (
        select(Delivery.domain, Delivery.status, func.count())
        .where(Delivery.send_id == send_id)
        .group_by(Delivery.domain, Delivery.status)
    )
    statuses: dict[str, int] = defaultdict(int)
    per_domain: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for domain, status, count in session.execute(query):
        statuses[status] += count
        per_domain[domain][0] += count
        if status == "accepted":
            per_domain[domain][1] += count
    top = sorted(per_domain.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return dict(sorted(statuses.items())), [(domain, n, accepted) for domain, (n, accepted) in top]


def _counters(session: Session, send_id: int) -> dict[str, dict[str, int]]:
    """The send's counters except the per-domain ones: name → key → value."""
    names = ("events", "unique", "bounce_class", "link")
    query = select(SendCounter.name, SendCounter.key, SendCounter.value).where(
        SendCounter.send_id == send_id,
        SendCounter.name.in_(names) | and_(SendCounter.name >= "hour:", SendCounter.name < "hour;"),
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for name, key, value in session.execute(query):
        out[name][key] = value
    return out


def _by_domain(
    session: Session, send_id: int, top: list[tuple[str, int, int]], figures: dict[str, int]
) -> list[DomainRow]:
    """Rows for the largest domains, then one "(other)" row for the rest, if any."""
    names = [f"domain:{figure}" for figure in DOMAIN_FIGURES_ALL]
    query = select(SendCounter.name, SendCounter.key, SendCounter.value).where(
        SendCounter.send_id == send_id,
        SendCounter.name.in_(names),
        SendCounter.key.in_([domain for domain, _, _ in top]),
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for name, key, value in session.execute(query):
        found[key][name.removeprefix("domain:")] = value
    rows = [
        DomainRow(domain, n, accepted, {f: found[domain].get(f, 0) for f in DOMAIN_FIGURES_ALL})
        for domain, n, accepted in top
    ]
    rest = DomainRow(
        "(other)",
        figures["recipients"] - sum(r.recipients for r in rows),
        figures["accepted"] - sum(r.accepted for r in rows),
        {f: figures[f] - sum(r.figures[f] for r in rows) for f in DOMAIN_FIGURES_ALL},
    )
    return [*rows, rest] if rest.recipients else rows


def _over_time(counters: dict[str, dict[str, int]], started: datetime) -> list[HourRow]:
    """Events per hour since the hour the send started in."""
    origin = started.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours: dict[datetime, dict[str, int]] = defaultdict(dict)
    for kind, column in HOURLY.items():
        for key, value in counters.get(f"hour:{kind}", {}).items():
            hour = datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC)
            hours[hour][column] = hours[hour].get(column, 0) + value
    return [
        HourRow(
            int((start - origin) / timedelta(hours=1)), start, {c: counts.get(c, 0) for c in HOURLY.values()}
        )
        for start, counts in sorted(hours.items())
    ]
