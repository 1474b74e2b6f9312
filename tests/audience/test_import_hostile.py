"""Hostile CSV files: control characters, wide headers, huge cells, broken quotes and killed imports.

Each test is a finding of issue 20 (item 7) or 21 (/dev/stdin): the import never throws anything but a
one-line ImportFileError, rejects bad rows with their line number and a reason, and leaves no scratch
folder behind, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.audience.csvimport.importer import import_csv
from newsletter.db.tables import MailingList, Subscriber
from newsletter.errors import ImportFileError

from .conftest import Dump, WriteCsv, read_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary directory of its own for the imports of this test, so its leftovers can be counted."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _emails(session: Session) -> list[str]:
    return sorted(session.scalars(select(Subscriber.email)))


def test_nul_and_control_characters_reject_their_row_only(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    """On PostgreSQL a NUL byte in a name lost its whole chunk with a traceback; SQLite stored it."""
    rows = [["email", "name", "city"]] + [[f"r{i}@example.com", f"R {i}", "Leeds"] for i in range(10)]
    rows[4][1] = "Bad\x00Name"
    rows[6][2] = "Le\x1beds"
    rows[8][0] = "r7\x07@example.com"
    rows[9][1] = "Tab\tand\r\nnewline are text"
    report = import_csv(session, write_csv(rows), "e-alert")
    assert (report.rows, report.added, report.rejected) == (10, 7, 3)
    rejects = read_csv(report.rejects_path)
    assert [(r["row"], r["email"], r["reason"]) for r in rejects] == [
        ("5", "r3@example.com", "control character U+0000 in column 'name'"),
        ("7", "r5@example.com", "control character U+001B in column 'city'"),
        ("9", "r7\\x07@example.com", "control character U+0007 in column 'email'"),
    ]
    assert "r3@example.com" not in _emails(session)
    stored = session.scalar(select(Subscriber.name).where(Subscriber.email == "r8@example.com"))
    assert stored == "Tab\tand\r\nnewline are text"


def test_a_header_too_wide_is_one_clear_error(
    session: Session, e_alert: MailingList, write_csv: WriteCsv, dump: Dump
) -> None:
    """2,500 columns gave a traceback (the scratch table could not have that many columns)."""
    header = ["email"] + [f"c{i}" for i in range(2500)]
    path = write_csv([header, ["w@example.com"] + ["x"] * 2500])
    before = dump()
    with pytest.raises(ImportFileError) as raised:
        import_csv(session, path, "e-alert")
    assert str(raised.value) == (
        f"{path}: line 1: the header row names 2,501 columns; at most 500 can be imported "
        "(remove the columns you do not need)"
    )
    assert dump() == before


def test_a_row_wider_than_the_limit_is_a_row_reject(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    path = write_csv([["email", "name"], ["a@example.com", "A"], ["b@example.com", "B", *["x"] * 3000]])
    report = import_csv(session, path, "e-alert")
    assert (report.added, report.rejected) == (1, 1)
    assert read_csv(report.rejects_path)[0] == {
        "row": "3",
        "email": "b@example.com",
        "reason": "the row has 3,002 cells but the header has 2",
    }


def test_a_huge_cell_rejects_its_row_not_the_file(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    """One 10 MB cell refused the whole file ("field larger than field limit")."""
    path = write_csv(
        [
            ["email", "name", "note"],
            ["ok@example.com", "Ok", "fine"],
            ["big@example.com", "Big", "x" * 10_000_000],
            ["after@example.com", "After", "fine"],
        ]
    )
    report = import_csv(session, path, "e-alert")
    assert (report.rows, report.added, report.rejected) == (3, 2, 1)
    assert read_csv(report.rejects_path) == [
        {
            "row": "3",
            "email": "big@example.com",
            "reason": "the cell in column 'note' has 10,000,000 characters; at most 10,000 are imported",
        }
    ]
    assert _emails(session) == ["after@example.com", "ok@example.com"]


def test_csv_errors_name_the_line_they_are_on(
    session: Session, e_alert: MailingList, tmp_path: Path, dump: Dump
) -> None:
    """A broken quote on line 3 was reported as line 4."""
    path = tmp_path / "quotes.csv"
    path.write_text('email,name\na@example.com,A\nb@example.com,"B"x\nc@example.com,C\n')
    before = dump()
    with pytest.raises(ImportFileError, match=r"^.*quotes\.csv: line 3: ',' expected after '\"'$"):
        import_csv(session, path, "e-alert")
    assert dump() == before
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text('email,name\na@example.com,A\nb@example.com,"B\nc@example.com,C\n')
    with pytest.raises(
        ImportFileError, match=r"unclosed\.csv: line 4: the file ends inside a quoted cell opened on line 3$"
    ):
        import_csv(session, unclosed, "e-alert")


def test_a_failed_import_leaves_no_scratch_folder(
    session: Session, e_alert: MailingList, write_csv: WriteCsv, scratch_root: Path
) -> None:
    path = write_csv([["email", "name"], ["a@example.com", "A"], ["b@example.com", '"B"x']])
    path.write_text('email,name\na@example.com,A\nb@example.com,"B"x\n')
    with pytest.raises(ImportFileError):
        import_csv(session, path, "e-alert")
    assert list(scratch_root.iterdir()) == []
    import_csv(session, write_csv([["email"], ["c@example.com"]], "fine.csv"), "e-alert")
    assert list(scratch_root.iterdir()) == []


_KILLED_CHILD = """
import sys, time
from pathlib import Path
from newsletter.audience.csvimport.importer import import_csv
from newsletter.db.session import make_engine, make_session_factory

marker = Path(sys.argv[3])
def stall(phase, done, total):
    if phase == "saving" and done:
        marker.write_text("saving")
        time.sleep(600)
with make_session_factory(make_engine(sys.argv[1]))() as session:
    import_csv(session, Path(sys.argv[2]), "e-alert", progress=stall, chunk_size=10)
"""


def test_a_killed_imports_scratch_folder_is_removed_by_the_next_import(
    session: Session,
    e_alert: MailingList,
    database_url: str,
    write_csv: WriteCsv,
    scratch_root: Path,
    tmp_path: Path,
) -> None:
    """SIGKILL runs no clean-up: the folder stayed in the temporary directory for good."""
    path = write_csv([["email"]] + [[f"k{i}@example.com"] for i in range(50)])
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, database_url, str(path), str(marker)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch_root)},
    )
    try:
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the child import never reached its first chunk"
        assert len(list(scratch_root.iterdir())) == 1  # in use: the scratch folder of the running import
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert len(list(scratch_root.iterdir())) == 1  # left behind by the kill
    report = import_csv(session, path, "e-alert")
    assert list(scratch_root.iterdir()) == []
    assert report.added + report.unchanged == 50
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 50


def test_a_running_imports_scratch_folder_is_left_alone(
    session: Session, e_alert: MailingList, write_csv: WriteCsv, scratch_root: Path
) -> None:
    """An import started meanwhile must not remove the folder of one still running."""
    seen: list[int] = []

    def meanwhile(phase: str, done: int, total: int) -> None:
        if phase == "saving" and done == 0:
            import_csv(session, write_csv([["email"], ["x@example.com"]], "other.csv"), "e-alert")
            seen.append(len(list(scratch_root.iterdir())))

    report = import_csv(session, write_csv([["email"], ["y@example.com"]]), "e-alert", progress=meanwhile)
    assert report.added == 1
    assert seen == [1]
    assert list(scratch_root.iterdir()) == []


def test_import_from_standard_input(cli_env: str, tmp_path: Path) -> None:
    """`subscribers import /dev/stdin` printed a traceback (a pipe cannot seek)."""
    newsletter = [sys.executable, "-m", "newsletter"]
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": cli_env}
    subprocess.run([*newsletter, "lists", "create", "e-alert"], cwd=tmp_path, env=env, check=True)
    data = "email,name\npiped@example.com,Piped\nnot-an-address,Bad\n"
    done = subprocess.run(
        [*newsletter, "subscribers", "import", "/dev/stdin", "--list", "e-alert", "--quiet"],
        cwd=tmp_path,
        env=env,
        input=data,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Read 2 rows from /dev/stdin into e-alert: 1 added" in done.stdout
    assert "Rejects (1 rows, each with its row number and reason): stdin.rejects.csv" in done.stdout
    assert read_csv(tmp_path / "stdin.rejects.csv")[0]["row"] == "3"
    latin = subprocess.run(
        [*newsletter, "subscribers", "import", "/dev/stdin", "--list", "e-alert", "--quiet"],
        cwd=tmp_path,
        env=env,
        input="email,name\nann@example.com,Ann\nbob@example.com,Jos\xe9\n".encode("latin-1"),
        capture_output=True,
        timeout=120,
    )
    assert latin.returncode == 1
    assert latin.stderr.decode() == (
        "error: /dev/stdin: line 3 is not UTF-8 text (byte 0xe9); "
        "save the file as UTF-8 and import it again\n"
    )


def test_sigterm_stops_an_import_cleanly(cli_env: str, tmp_path: Path, scratch_root: Path) -> None:
    """An import reading from a pipe that stalls, then stopped by SIGTERM: one line, no folder left."""
    newsletter = [sys.executable, "-m", "newsletter"]
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": cli_env, "TMPDIR": str(scratch_root)}
    subprocess.run([*newsletter, "lists", "create", "e-alert"], cwd=tmp_path, env=env, check=True)
    fifo = tmp_path / "members.csv"
    os.mkfifo(fifo)
    child = subprocess.Popen(
        [*newsletter, "subscribers", "import", str(fifo), "--list", "e-alert", "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with fifo.open("w") as writer:
            writer.write("email\n" + "".join(f"t{i}@example.com\n" for i in range(100)))
            writer.flush()
            for _ in range(600):
                if list(scratch_root.iterdir()) or child.poll() is not None:
                    break
                time.sleep(0.05)
            assert len(list(scratch_root.iterdir())) == 1
            child.send_signal(signal.SIGTERM)
            _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 1
    assert "Traceback" not in err
    assert (
        err.strip().splitlines()[-1]
        == "error: the import was stopped (SIGTERM); import the file again to finish it"
    )
    assert list(scratch_root.iterdir()) == []
