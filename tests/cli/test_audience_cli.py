"""The audience commands as a person runs them: db upgrade, lists, subscribers (CliRunner, real database)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import main

Run = Callable[..., Result]


@pytest.fixture
def run(cli_env: str) -> Run:
    """Run `newsletter ARGS...` against the test database; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def _members_csv(path: Path) -> Path:
    path.write_text(
        "Email,Name,City\nAnn@Example.com,Ann,Leeds\nnot-an-address,X,\nbob@example.com,Bob,=1+1\nANN@example.com,Annie,\n",
        encoding="utf-8",
    )
    return path


def test_db_upgrade_reports_the_revision(run: Run, database_url: str) -> None:
    result = run("db", "upgrade")
    assert result.exit_code == 0
    assert "is at revision" in result.output


def test_db_upgrade_creates_a_sqlite_file_and_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "var" / "deep" / "newsletter.db"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{target}")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert target.is_file()


def test_lists_create_and_list(run: Run) -> None:
    created = run("lists", "create", "e-alert", "--description", "Daily")
    assert created.exit_code == 0
    assert "Created list 'e-alert': public, single opt-in" in created.output
    assert "double opt-in" in run("lists", "create", "weekly", "--double-opt-in", "--private").output
    table = run("lists", "list").output.splitlines()
    assert table[0].split() == ["name", "visibility", "opt-in", "active"]
    assert table[1].split() == ["e-alert", "public", "single", "0"]
    assert table[2].split() == ["weekly", "private", "double", "0"]


def test_duplicate_list_is_an_error_message_not_a_traceback(run: Run) -> None:
    run("lists", "create", "e-alert")
    result = run("lists", "create", "E-ALERT")
    assert result.exit_code == 1
    assert "error: a list named 'e-alert' already exists" in result.output
    assert "Traceback" not in result.output


def test_import_prints_a_summary_and_writes_rejects(run: Run, tmp_path: Path) -> None:
    run("lists", "create", "e-alert")
    path = _members_csv(tmp_path / "members.csv")
    result = run(
        "subscribers", "import", str(path), "--list", "e-alert", "--rejects", str(tmp_path / "bad.csv")
    )
    assert result.exit_code == 0, result.output
    assert "Read 4 rows" in result.output
    assert "2 added, 0 updated, 0 unchanged, 1 merged duplicates, 1 rejected, 0 suppressed" in result.output
    assert str(tmp_path / "bad.csv") in result.output
    with (tmp_path / "bad.csv").open(encoding="utf-8") as handle:
        assert [row["row"] for row in csv.DictReader(handle)] == ["3"]
    again = run("subscribers", "import", str(path), "--list", "e-alert", "--quiet")
    assert "0 added, 0 updated, 2 unchanged" in again.output
    assert "members.rejects.csv" in again.output


def test_import_of_a_file_without_email_column_fails_clearly(run: Run, tmp_path: Path) -> None:
    run("lists", "create", "e-alert")
    path = tmp_path / "people.csv"
    path.write_text("name,phone\nAnn,123\n", encoding="utf-8")
    result = run("subscribers", "import", str(path), "--list", "e-alert")
    assert result.exit_code == 1
    assert "people.csv: the header row has no email column" in result.output


def test_export_to_stdout_escapes_formulas(run: Run, tmp_path: Path) -> None:
    run("lists", "create", "e-alert")
    run("subscribers", "import", str(_members_csv(tmp_path / "m.csv")), "--list", "e-alert", "--quiet")
    result = run("subscribers", "export", "--list", "e-alert")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["email"], r["name"], r["status"], r["city"]) for r in rows] == [
        ("ann@example.com", "Annie", "active", "Leeds"),
        ("bob@example.com", "Bob", "active", "'=1+1"),
    ]
    assert "Exported 2 members" in result.stderr


def test_export_to_a_file(run: Run, tmp_path: Path) -> None:
    run("lists", "create", "e-alert")
    run("subscribers", "add", "ann@example.com", "--list", "e-alert")
    out = tmp_path / "out.csv"
    result = run("subscribers", "export", "--list", "e-alert", "--out", str(out))
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("ann@example.com,,active,")


def test_add_show_unsubscribe(run: Run) -> None:
    run("lists", "create", "e-alert")
    assert (
        "Added ann@example.com to e-alert."
        in run("subscribers", "add", "Ann@Example.com", "--list", "e-alert", "--name", "Ann").output
    )
    assert "already subscribed" in run("subscribers", "add", "ann@example.com", "--list", "e-alert").output
    shown = run("subscribers", "show", "ANN@example.com").output
    assert "ann@example.com  [enabled]" in shown
    assert "name: Ann" in shown
    assert "e-alert: active since" in shown
    assert "subscribe by cli" in shown
    assert (
        "Unsubscribed ann@example.com from e-alert."
        in run("subscribers", "unsubscribe", "ann@example.com", "--list", "e-alert").output
    )
    assert (
        "Already unsubscribed:"
        in run("subscribers", "unsubscribe", "ann@example.com", "--list", "e-alert").output
    )
    shown = run("subscribers", "show", "ann@example.com").output
    assert "e-alert: unsubscribed since" in shown
    assert "unsubscribed (e-alert) from cli" in shown


def test_add_a_bad_address_is_an_error(run: Run) -> None:
    run("lists", "create", "e-alert")
    result = run("subscribers", "add", "nope", "--list", "e-alert")
    assert result.exit_code == 1
    assert "error: 'nope' is not a valid email address" in result.output


def test_delete_asks_first_then_erases_and_blocks_reimport(run: Run, tmp_path: Path) -> None:
    run("lists", "create", "e-alert")
    run("subscribers", "add", "ann@example.com", "--list", "e-alert")
    refused = run("subscribers", "delete", "ann@example.com", input="n\n")
    assert refused.exit_code == 1
    assert "[enabled]" in run("subscribers", "show", "ann@example.com").output
    erased = run("subscribers", "delete", "ann@example.com", "--yes")
    assert "Erased ann@example.com; only a hashed suppression remains." in erased.output
    shown = run("subscribers", "show", "ann@example.com").output
    assert "no subscriber (erased or never added)" in shown
    assert "erased (all lists) from cli" in shown
    path = tmp_path / "again.csv"
    path.write_text("email\nANN@example.com\n", encoding="utf-8")
    result = run("subscribers", "import", str(path), "--list", "e-alert")
    assert "0 added" in result.output
    assert "1 suppressed" in result.output


def test_unknown_list_and_unknown_subscriber(run: Run) -> None:
    assert (
        "error: no list named 'nope'; there are no lists yet"
        in run("subscribers", "export", "--list", "nope").output
    )
    result = run("subscribers", "show", "nobody@example.com")
    assert result.exit_code == 1
    assert "error: no subscriber nobody@example.com" in result.output
