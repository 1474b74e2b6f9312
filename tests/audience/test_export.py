"""Export: every member with status and attributes; formula-like cells cannot run in a spreadsheet."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from newsletter.audience.csv_cells import escape_cell, unescape_cell
from newsletter.audience.csvimport.importer import import_csv
from newsletter.audience.export import export_list
from newsletter.audience.people.subscribers import unsubscribe_address
from newsletter.db.tables import MailingList
from newsletter.errors import NotFound

from .conftest import Dump, WriteCsv


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_escape_cell(cell: str, safe: str) -> None:
    assert escape_cell(cell) == safe
    assert unescape_cell(safe) == cell


def test_export_lists_members_with_escaped_cells(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    import_csv(
        session,
        write_csv(
            [
                ["email", "name", "city", "attribute:status"],
                ["ann@example.com", "=cmd|' /C calc'!A0", "Leeds", "vip"],
                ["-bob@example.com", "Bob", "@home", ""],
                ["cat@example.com", "Cat", "", ""],
            ]
        ),
        "e-alert",
    )
    unsubscribe_address(session, "cat@example.com", "e-alert")
    out = io.StringIO()
    assert export_list(session, "e-alert", out) == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == "email,name,status,subscribed_at,city,attribute:status"
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert rows["ann@example.com"].startswith("ann@example.com,'=cmd|' /C calc'!A0,active,20")
    assert rows["ann@example.com"].endswith(",Leeds,vip")
    assert rows["'-bob@example.com"].endswith(",'@home,")
    assert rows["cat@example.com"].startswith("cat@example.com,Cat,unsubscribed,")


def test_export_round_trips_through_import(
    session: Session,
    e_alert: MailingList,
    weekly: MailingList,
    write_csv: WriteCsv,
    tmp_path: Path,
    dump: Dump,
) -> None:
    rows = [
        ["email", "name", "note", "e-mail address"],
        ["=x@example.com", "+Ann", "-5", "x"],
        ["b@example.com", "", "", ""],
    ]
    import_csv(session, write_csv(rows), "e-alert")
    exported = tmp_path / "export.csv"
    with exported.open("w", encoding="utf-8", newline="") as handle:
        export_list(session, "e-alert", handle)
    before = dump()["subscribers"]
    report = import_csv(session, exported, "weekly")
    assert (report.added, report.updated, report.rejected) == (2, 0, 0)
    assert dump()["subscribers"] == before


def test_export_unknown_list(session: Session) -> None:
    with pytest.raises(NotFound):
        export_list(session, "nope", io.StringIO())
