"""`newsletter users ...` account lifecycle and `newsletter audit`, with the audit rows they leave."""

from __future__ import annotations

import getpass

from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from newsletter.cli import main
from newsletter.db.audit import entries
from newsletter.staff import accounts
from newsletter.staff.sessions import open_sessions, start_session

PASSWORD = "correct horse battery staple"


def run(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_users_lifecycle_from_the_cli_is_audited_and_ends_sessions(
    cli_env: str, session_factory: sessionmaker[Session]
) -> None:
    run("users", "add", "ed@example.org", "--role", "editor", "--password-stdin", stdin=PASSWORD + "\n")
    run(
        "users",
        "add",
        "admin@example.org",
        "--role",
        "admin",
        "--password-stdin",
        "--by",
        "dana",
        stdin=PASSWORD + "\n",
    )
    with session_factory() as session:
        editor = accounts.find_user(session, "ed@example.org").id
        start_session(session, editor)
        session.commit()

    listing = run("users", "list")
    assert "ed@example.org" in listing
    assert "editor" in listing
    assert "admin@example.org" in listing

    assert "publisher" in run("users", "set-role", "ed@example.org", "publisher")
    assert "deactivated" in run("users", "deactivate", "ed@example.org", "--by", "dana")
    with session_factory() as session:
        assert open_sessions(session, editor) == 0
        assert accounts.password_matches(session, "ed@example.org", PASSWORD) is None
    run("users", "activate", "ed@example.org")
    run("users", "reset-password", "ed@example.org", "--password-stdin", stdin="another long password\n")
    run("users", "reset-totp", "ed@example.org")
    run("users", "require-totp", "on")
    with session_factory() as session:
        assert accounts.password_matches(session, "ed@example.org", "another long password") is not None
        rows = [(e.actor, e.actor_kind, e.action, e.target) for e in reversed(entries(session))]
    me = getpass.getuser()
    assert rows == [
        (me, "cli", "user.add", "ed@example.org"),
        ("dana", "cli", "user.add", "admin@example.org"),
        (me, "cli", "user.set_role", "ed@example.org"),
        ("dana", "cli", "user.deactivate", "ed@example.org"),
        (me, "cli", "user.activate", "ed@example.org"),
        (me, "cli", "user.reset_password", "ed@example.org"),
        (me, "cli", "user.totp_reset", "ed@example.org"),
        (me, "cli", "policy.require_totp", "everyone"),
    ]

    shown = run("audit", "--user", "dana")
    assert "user.deactivate" in shown
    assert "user.set_role" not in shown
    assert "policy.require_totp" in run("audit", "--since", "1h", "--action", "policy.require_totp")
    assert run("audit", "--since", "2999-01-01").strip() == "No audit entries match."


def test_users_commands_name_an_unknown_account_in_one_line(cli_env: str) -> None:
    result = CliRunner().invoke(main, ["users", "deactivate", "nobody@example.org"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: no staff account 'nobody@example.org' (see `newsletter users list`)"
    )
    result = CliRunner().invoke(main, ["audit", "--since", "last tuesday"])
    assert result.exit_code == 1
    assert "--since: cannot read 'last tuesday'" in result.output
