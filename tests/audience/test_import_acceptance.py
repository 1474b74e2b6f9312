"""Acceptance: 100,000 rows with 1% bad rows, 1% repeats and mixed case import exactly, twice alike."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.audience.csvimport.importer import import_csv
from newsletter.audience.people.recipients import recipients
from newsletter.db.tables import MailingList, Subscriber

from .conftest import Fingerprint, read_csv

ROWS = 100_000
BAD = ["user{i}", "user{i}@", "@example{i}.com", "us er{i}@example.com", "user{i}@exa_mple.com", ""]


def _mixed_case(text: str, rng: random.Random) -> str:
    return "".join(ch.upper() if rng.random() < 0.3 else ch for ch in text)


def _generate(path: Path) -> tuple[dict[str, str], list[int]]:
    """Write the file; return the expected {email: name} and the line numbers of bad rows."""
    rng = random.Random(20261120)
    expected: dict[str, str] = {}
    bad_lines: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "Name", "City"])
        for i in range(ROWS):
            line = i + 2
            if i % 100 == 37:
                writer.writerow([rng.choice(BAD).format(i=i), "Bad", "Nowhere"])
                bad_lines.append(line)
                continue
            source = i - 50 if i % 100 == 73 else i
            email = f"reader.{source}@example{source % 97}.com"
            name = f"Reader {i}"
            writer.writerow([_mixed_case(email, rng), name, rng.choice(["Leeds", "York", ""])])
            expected[email] = name
    return expected, bad_lines


@pytest.mark.slow
def test_100k_rows_import_exactly_and_a_second_import_changes_nothing(
    session: Session, e_alert: MailingList, tmp_path: Path, fingerprint: Fingerprint
) -> None:
    path = tmp_path / "members.csv"
    expected, bad_lines = _generate(path)
    rejects = tmp_path / "rejects.csv"

    report = import_csv(session, path, "e-alert", rejects_path=rejects)

    assert report.rows == ROWS
    assert (report.added, report.merged, report.rejected, report.suppressed) == (
        len(expected),
        ROWS // 100,
        len(bad_lines),
        0,
    )
    stored = dict(session.execute(select(Subscriber.email, Subscriber.name)).all())
    assert stored == expected
    assert [int(row["row"]) for row in read_csv(rejects)] == bad_lines
    assert all(row["reason"] for row in read_csv(rejects))
    mailed = sum(len(batch) for batch in recipients(session, [e_alert.id], batch_size=5000))
    assert mailed == len(expected)

    before = fingerprint()
    again = import_csv(session, path, "e-alert", rejects_path=rejects)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(expected))
    assert fingerprint() == before
    assert [int(row["row"]) for row in read_csv(rejects)] == bad_lines
