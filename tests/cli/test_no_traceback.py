"""Every command, run against a database it cannot use or a broken config file, says so in one line.

The table ARGS gives each command arguments it would accept; a command missing from it fails here, so a
new command is tried too. "Unusable" means never migrated, and migrated by a newer version of the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, text

from newsletter.cli import main
from newsletter.db import revisions
from newsletter.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
ISSUE = str(ROOT / "issues" / "2026-11-20-muscle-loss-culprit.yaml")
PASSWORD = "correct horse battery staple\n"

ARGS: dict[str, list[str]] = {
    "check": [ISSUE],
    "render": [ISSUE, "--out", "out"],
    "db upgrade": [],
    "demo": [],
    "lists create": ["weekly"],
    "lists list": [],
    "subscribers add": ["a@example.org", "--list", "weekly"],
    "subscribers import": ["members.csv", "--list", "weekly", "--quiet"],
    "subscribers export": ["--list", "weekly"],
    "subscribers show": ["a@example.org"],
    "subscribers unsubscribe": ["a@example.org"],
    "subscribers delete": ["a@example.org", "--yes"],
    "send": [ISSUE, "--list", "weekly"],
    "sends": [],
    "pause": ["1"],
    "resume": ["1"],
    "cancel": ["1"],
    "reconcile": ["1"],
    "retry-failed": ["1"],
    "worker": ["--once", "--quiet"],
    "report": ["1"],
    "serve": ["--host", "127.0.0.1", "--port", "9"],
    "users add": ["a@example.org", "--role", "editor", "--password-stdin"],
    "users list": [],
    "users deactivate": ["a@example.org"],
    "users activate": ["a@example.org"],
    "users set-role": ["a@example.org", "publisher"],
    "users reset-password": ["a@example.org", "--password-stdin"],
    "users reset-totp": ["a@example.org"],
    "users require-totp": ["on"],
    "audit": [],
    "segments create": ["clinicians", "--where", 'role = "clinician"'],
    "segments list": [],
    "segments show": ["clinicians"],
    "segments delete": ["clinicians"],
    "schema": [],
    "preview": [ISSUE, "--port", "9"],
}
NO_DATABASE = {"check", "render", "schema", "preview"}
"""Commands that never open the database."""
NO_SETTINGS = {"schema", "check", "render"}
"""Commands that need no settings (check and render read a config file only for their folders)."""
SERVES_UNTIL_STOPPED = {"preview"}
"""Commands that run until stopped when nothing is wrong (tests/cli covers them elsewhere)."""
NEWEST = revisions.head()
MIGRATES = {"db upgrade", "demo"}
"""Commands that migrate a database never migrated (so it is no failure for them)."""


def _command_names(group: click.Group, prefix: str = "") -> Iterator[str]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _command_names(command, f"{prefix}{name} ")
        elif command is not None:
            yield f"{prefix}{name}"


COMMANDS = sorted(_command_names(main))


def test_every_command_is_tried() -> None:
    assert sorted(ARGS) == COMMANDS


def _run(name: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, [*name.split(), *ARGS[name]], env=env, input=PASSWORD)


def _one_line_error(result: Result) -> str:
    """The only line of a failed command's standard error; fails on a traceback."""
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        f"traceback: {result.exception!r}"
    )
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working folder with a CSV to import, and no settings but a secret key."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "members.csv").write_text("email\na@example.org\n", encoding="utf-8")
    return tmp_path


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - SERVES_UNTIL_STOPPED))
def test_on_a_database_never_migrated_every_command_says_to_upgrade_it(
    name: str, blank_engine: Engine, place: Path
) -> None:
    env = {"NEWSLETTER_DATABASE_URL": _url(blank_engine), "NEWSLETTER_SECRET_KEY": "k" * 40}
    result = _run(name, env)
    if name in NO_DATABASE or name in MIGRATES:
        assert result.exit_code == 0, result.output
        return
    line = _one_line_error(result)
    assert line.startswith("error: NEWSLETTER_DATABASE_URL: ")
    assert line.endswith(f"is at revision none, this version needs {NEWEST}; run `newsletter db upgrade`")


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - NO_DATABASE))
def test_on_a_database_a_newer_version_migrated_every_command_refuses_it(
    name: str, blank_engine: Engine, place: Path
) -> None:
    upgrade(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    env = {"NEWSLETTER_DATABASE_URL": _url(blank_engine), "NEWSLETTER_SECRET_KEY": "k" * 40}

    line = _one_line_error(_run(name, env))

    assert (
        f"is at revision 9999, newer than this version of newsletter knows (its newest is {NEWEST})" in line
    )


BROKEN_CONFIGS = {
    "malformed": ('transport = "outbox"\ndatabase_url = \n', "settings.toml:2:16: not TOML: Invalid value"),
    "unknown key": ('databse_url = "sqlite:///x.db"\n', "settings.toml:1: unknown setting 'databse_url'"),
    "bad value": ('\ntransport = "pigeon"\n', "settings.toml:2: transport: Input should be 'outbox'"),
    "missing": (None, "NEWSLETTER_CONFIG_FILE: cannot read settings.toml: No such file or directory"),
}


@pytest.mark.parametrize("problem", sorted(BROKEN_CONFIGS))
@pytest.mark.parametrize("name", sorted(set(COMMANDS) - NO_SETTINGS))
def test_with_a_broken_config_file_every_command_names_the_file_and_line(
    name: str, problem: str, place: Path
) -> None:
    content, message = BROKEN_CONFIGS[problem]
    if content is not None:
        (place / "settings.toml").write_text(content, encoding="utf-8")
    env = {"NEWSLETTER_CONFIG_FILE": "settings.toml", "NEWSLETTER_DATABASE_URL": f"sqlite:///{place}/n.db"}

    line = _one_line_error(_run(name, env))

    assert line.startswith(f"error: {message}")
    assert not (place / "n.db").exists()  # nothing was created before the settings were read


INPUT_ERRORS = {
    "unknown zone": (
        ["send", ISSUE, "--list", "weekly", "--at", "2026-12-01 07:00", "--tz", "Mars/Olympus"],
        "error: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Paris)",
    ),
    "unreadable time": (
        ["send", ISSUE, "--list", "weekly", "--at", "first thing Monday"],
        "error: cannot read the time 'first thing Monday'; write it like 2026-12-01 07:00",
    ),
    "rejects in a missing folder": (
        ["subscribers", "import", "members.csv", "--list", "weekly", "--rejects", "no/such/dir/r.csv"],
        "error: --rejects no/such/dir/r.csv: the folder no/such/dir does not exist",
    ),
    "export into a missing folder": (
        ["subscribers", "export", "--list", "weekly", "--out", "no/such/dir/out.csv"],
        "error: no/such/dir/out.csv: No such file or directory",
    ),
}


@pytest.mark.parametrize("case", sorted(INPUT_ERRORS))
def test_a_wrong_input_is_one_line_naming_it_and_changes_nothing(
    case: str, cli_env: str, tmp_path: Path
) -> None:
    (tmp_path / "members.csv").write_text("email\na@example.org\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["lists", "create", "weekly"]).exit_code == 0
    args, message = INPUT_ERRORS[case]

    line = _one_line_error(CliRunner().invoke(main, args))

    assert line == message
    listed = CliRunner().invoke(main, ["lists", "list"]).output.splitlines()
    assert listed[1].split() == ["weekly", "public", "single", "0"]  # nobody was imported
