"""CSV import: validation with row numbers, merging, suppressions honoured, idempotent, clear file errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.audience.csvimport.importer import import_csv
from newsletter.audience.people.recipients import recipients
from newsletter.audience.people.subscribers import (
    add_subscriber,
    describe_subscriber,
    erase_subscriber,
    unsubscribe_address,
)
from newsletter.audience.people.suppressions import add_suppression
from newsletter.db.tables import MailingList, Subscriber
from newsletter.errors import ImportFileError, NotFound

from .conftest import Dump, WriteCsv, read_csv

HEADER = ["Email", "Name", "City", "Plan"]


def _people(session: Session) -> dict[str, tuple[str | None, dict[str, str]]]:
    return {s.email: (s.name, s.attributes) for s in session.scalars(select(Subscriber))}


def test_import_reports_every_bad_row_with_its_line(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    path = write_csv(
        [
            HEADER,
            ["ann@example.com", "Ann", "Leeds", ""],
            ["not-an-address", "X", "", ""],
            ["", "No Email", "", ""],
            ["bob@example.com", "Bob", "York", "", "surprise"],
            ["cat@example", "Cat", "", ""],
            ["dan@example.com", "D" * 201, "", ""],
        ]
    )
    report = import_csv(session, path, "e-alert")
    assert (report.rows, report.added, report.rejected) == (6, 1, 5)
    rejects = read_csv(report.rejects_path)
    assert report.rejects_path == path.with_name("members.rejects.csv")
    assert [(r["row"], r["email"]) for r in rejects] == [
        ("3", "not-an-address"),
        ("4", ""),
        ("5", "bob@example.com"),
        ("6", "cat@example"),
        ("7", "dan@example.com"),
    ]
    reasons = [r["reason"] for r in rejects]
    assert reasons[0].startswith("invalid email address: An email address must have an @-sign")
    assert reasons[1] == "no email address"
    assert reasons[2] == "the row has 5 cells but the header has 4"
    assert "domain name" in reasons[3] or "period" in reasons[3]
    assert reasons[4] == "the name is longer than 200 characters"


def test_duplicates_merge_later_values_win_and_empty_cells_keep(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    path = write_csv(
        [
            HEADER,
            ["Ann@Example.com", "Ann", "Leeds", "free"],
            ["bob@example.com", "Bob", "", ""],
            ["ANN@example.COM", "Annie", "", "paid"],
            [" ann@example.com ", "", "Hull", ""],
        ]
    )
    report = import_csv(session, path, "e-alert")
    assert (report.rows, report.added, report.merged, report.rejected) == (4, 2, 2, 0)
    assert _people(session)["ann@example.com"] == ("Annie", {"city": "Hull", "plan": "paid"})
    assert _people(session)["bob@example.com"] == ("Bob", {})


def test_second_import_of_the_same_file_changes_nothing(
    session: Session, e_alert: MailingList, write_csv: WriteCsv, dump: Dump
) -> None:
    path = write_csv(
        [
            HEADER,
            ["ann@example.com", "Ann", "Leeds", ""],
            ["ann@example.com", "", "", "x"],
            ["bad", "", "", ""],
        ]
    )
    import_csv(session, path, "e-alert")
    before = dump()
    first_rejects = path.with_name("members.rejects.csv").read_text()
    report = import_csv(session, path, "e-alert")
    assert (report.added, report.updated, report.unchanged, report.merged) == (0, 0, 1, 1)
    assert dump() == before
    assert path.with_name("members.rejects.csv").read_text() == first_rejects


def test_existing_subscribers_get_new_values_and_keep_the_rest(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    import_csv(session, write_csv([HEADER, ["ann@example.com", "Ann", "Leeds", "free"]]), "e-alert")
    report = import_csv(
        session, write_csv([["email", "plan"], ["ann@example.com", "paid"]], "update.csv"), "e-alert"
    )
    assert (report.updated, report.unchanged) == (1, 0)
    assert _people(session)["ann@example.com"] == ("Ann", {"city": "Leeds", "plan": "paid"})


def test_import_adds_known_people_to_another_list(
    session: Session, e_alert: MailingList, weekly: MailingList, write_csv: WriteCsv
) -> None:
    add_subscriber(session, "ann@example.com", "e-alert")
    report = import_csv(session, write_csv([["email"], ["ann@example.com"]]), "weekly")
    assert report.added == 1
    assert [r.email for b in recipients(session, [weekly.id]) for r in b] == ["ann@example.com"]
    methods = [(e.method, e.source) for e in describe_subscriber(session, "ann@example.com").evidence]
    assert methods == [("cli", "cli"), ("import", "members.csv")]


def test_suppressed_erased_and_unsubscribed_are_reported_not_added(
    session: Session, e_alert: MailingList, write_csv: WriteCsv, dump: Dump
) -> None:
    add_subscriber(session, "left@example.com", "e-alert")
    unsubscribe_address(session, "left@example.com", "e-alert")
    add_subscriber(session, "gone@example.com", "e-alert")
    erase_subscriber(session, "gone@example.com")
    add_suppression(session, "bounced@example.com", "hard_bounce", source="sendgrid-webhook")
    session.commit()
    before = dump()
    path = write_csv(
        [["email"], ["Left@example.com"], ["GONE@example.com"], ["bounced@example.com"], ["gone@example.com"]]
    )
    report = import_csv(session, path, "e-alert", rejects_path=path.parent / "r.csv")
    assert (report.added, report.suppressed) == (0, 4)
    assert dump() == before
    assert [(r["row"], r["email"], r["reason"]) for r in read_csv(path.parent / "r.csv")] == [
        ("2", "left@example.com", "suppressed (unsubscribed from this list)"),
        ("3", "gone@example.com", "suppressed (erased)"),
        ("4", "bounced@example.com", "suppressed (hard_bounce)"),
        ("5", "gone@example.com", "suppressed (erased)"),
    ]


def test_exported_formula_cells_import_back_unchanged(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    import_csv(
        session, write_csv([["email", "name", "note"], ["'=eve@example.com", "'@Eve", "'=1+1"]]), "e-alert"
    )
    assert _people(session) == {"=eve@example.com": ("@Eve", {"note": "=1+1"})}


def test_header_without_email_column_is_refused(
    session: Session, e_alert: MailingList, write_csv: WriteCsv, dump: Dump
) -> None:
    before = dump()
    path = write_csv([["name", "mail"], ["Ann", "ann@example.com"]])
    with pytest.raises(
        ImportFileError, match=r"members\.csv: the header row has no email column \(found: 'name', 'mail'\)"
    ):
        import_csv(session, path, "e-alert")
    assert dump() == before


def test_non_utf8_file_is_refused_naming_the_line(
    session: Session, e_alert: MailingList, tmp_path: Path, dump: Dump
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,name\nann@example.com,Ann\nbob@example.com,Jos\xe9\n".encode("latin-1"))
    before = dump()
    with pytest.raises(ImportFileError, match=r"latin1\.csv: line 3 is not UTF-8 text \(byte 0xe9"):
        import_csv(session, path, "e-alert")
    assert dump() == before


def test_empty_file_missing_file_and_unknown_list(
    session: Session, e_alert: MailingList, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ImportFileError, match="the file is empty"):
        import_csv(session, empty, "e-alert")
    with pytest.raises(ImportFileError, match="cannot read the file"):
        import_csv(session, tmp_path / "missing.csv", "e-alert")
    with pytest.raises(NotFound, match="no list named 'nope'"):
        import_csv(session, empty, "nope")


def test_bom_quoted_newlines_and_blank_lines(session: Session, e_alert: MailingList, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b'\xef\xbb\xbfE-mail,Name\r\n"ann@example.com","Ann\r\nSmith"\r\n\r\nbad,\r\n')
    report = import_csv(session, path, "e-alert")
    assert (report.rows, report.added, report.rejected) == (2, 1, 1)
    assert read_csv(report.rejects_path)[0]["row"] == "5"
    assert _people(session)["ann@example.com"][0] == "Ann\r\nSmith"


def test_progress_is_reported(session: Session, e_alert: MailingList, write_csv: WriteCsv) -> None:
    seen: list[tuple[str, int, int]] = []
    path = write_csv([["email"], *([f"r{n}@example.com"] for n in range(10))])
    import_csv(session, path, "e-alert", progress=lambda *args: seen.append(args), chunk_size=4)
    assert seen[0] == ("reading", path.stat().st_size, path.stat().st_size)
    assert [s for s in seen if s[0] == "saving"] == [("saving", n, 10) for n in (0, 4, 8, 10)]
