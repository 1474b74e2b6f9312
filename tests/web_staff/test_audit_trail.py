"""Issue 14: every staff action leaves an audit row (who, when, what, from where), web and CLI alike."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from events.helpers import make_send
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from newsletter.audience.people.lists import create_list
from newsletter.audience.people.subscribers import add_subscriber
from newsletter.cli import main
from newsletter.db.audit import Action, Actor, entries, record
from newsletter.services import Services
from web_staff.helpers import PASSWORD, add_staff, csrf_of, log_in

ISSUE = "2026-11-20-muscle-loss-culprit"
ISSUE_FILE = Path(__file__).resolve().parents[2] / "issues" / f"{ISSUE}.yaml"


def _cli(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("cli_env")
def test_every_staff_action_is_in_the_audit_log_with_who_when_what_and_where(
    staff_client: TestClient, staff_services: Services, session_factory: sessionmaker[Session]
) -> None:
    add_staff(staff_services, "admin@example.org", "admin")
    with staff_services.sessions() as session:
        create_list(session, "e-Alert")
        add_subscriber(session, "member@example.org", "e-Alert")
        add_subscriber(session, "leaver@example.org", "e-Alert")

    # the web app: failed login, login, test send, schedule, pause, resume, cancel, import, users, logout
    token = csrf_of(staff_client.get("/admin/login").text)
    form = {"csrf_token": token, "email": "admin@example.org", "password": "not the password"}
    assert staff_client.post("/admin/login", data=form).status_code == 400
    log_in(staff_client, "admin@example.org", PASSWORD)
    token = csrf_of(staff_client.get("/admin/issues").text)
    assert (
        staff_client.post(
            f"/admin/issues/{ISSUE}/test", data={"csrf_token": token, "to": "t@example.org"}
        ).status_code
        == 303
    )
    when = {"issue": ISSUE, "date": "2030-01-01", "time": "07:00", "timezone": "UTC", "list": "e-Alert"}
    created = staff_client.post("/admin/sends", data={"csrf_token": token, **when})
    send_page = created.headers["location"]
    for verb in ("pause", "resume", "cancel"):
        assert staff_client.post(f"{send_page}/{verb}", data={"csrf_token": token}).status_code == 303
    upload = {"file": ("members.csv", b"email,name\nnew@example.org,New\n", "text/csv")}
    imported = staff_client.post(
        "/admin/audience/import", data={"csrf_token": token, "list": "e-Alert"}, files=upload
    )
    assert imported.status_code == 200
    for change, extra in [
        ("add", {"role": "editor"}),
        ("role", {"role": "publisher"}),
        ("deactivate", {}),
        ("activate", {}),
        ("reset-password", {}),
    ]:
        form = {"csrf_token": token, "email": "ed@example.org", **extra}
        assert staff_client.post(f"/admin/users/{change}", data=form).status_code == 200
    assert staff_client.post("/admin/logout", data={"csrf_token": token}).status_code == 303

    # the command line: schedule, a test send, import, export, erase, a user change (the OS user, or --by)
    scheduled = _cli("send", str(ISSUE_FILE), "--list", "e-Alert", "--at", "2030-01-02 07:00", "--by", "dana")
    cli_send = scheduled.split()[-1]
    for verb in ("pause", "resume", "cancel"):
        _cli(verb, cli_send)
    with session_factory() as session:
        unknown_send, _ = make_send(session, ["u@example.org"], statuses={0: "unknown"}, batched=True)
        session.commit()
    _cli("reconcile", str(unknown_send), "--requeue-unknown", "--settled-hours", "0")
    _cli("send", str(ISSUE_FILE), "--test-to", "t@example.org")
    Path("more.csv").write_text("email\nmore@example.org\n", encoding="utf-8")
    _cli("subscribers", "import", "more.csv", "--list", "e-Alert", "--quiet")
    _cli("subscribers", "export", "--list", "e-Alert", "--out", "out.csv")
    _cli("subscribers", "delete", "leaver@example.org", "--yes")
    _cli("users", "set-role", "ed@example.org", "editor")
    with session_factory() as session:  # approvals come with issue 12, which records through this call
        record(session, Actor("admin@example.org", "staff", "127.0.0.1"), Action.SEND_APPROVE, "send 1")
        session.commit()

    with session_factory() as session:
        rows = list(reversed(entries(session)))
    web = [(r.action, r.actor, r.actor_kind, r.address) for r in rows if r.actor_kind == "staff"]
    me, host = getpass.getuser(), socket.gethostname()
    cli = [(r.action, r.actor, r.address) for r in rows if r.actor_kind == "cli"]
    assert [a for a, *_ in web] == [
        "login.failed",
        "login",
        "send.test",
        "send.schedule",
        "send.pause",
        "send.resume",
        "send.cancel",
        "audience.import",
        "user.add",
        "user.set_role",
        "user.deactivate",
        "user.activate",
        "user.reset_password",
        "logout",
        "send.approve",
    ]
    assert {(who, kind, where) for _, who, kind, where in web} == {
        ("admin@example.org", "staff", "testclient"),
        ("admin@example.org", "staff", "127.0.0.1"),
    }
    assert cli == [
        ("send.schedule", "dana", host),
        ("send.pause", me, host),
        ("send.resume", me, host),
        ("send.cancel", me, host),
        ("send.requeue", me, host),
        ("send.test", me, host),
        ("audience.import", me, host),
        ("audience.export", me, host),
        ("subscriber.erase", me, host),
        ("user.set_role", me, host),
    ]
    erased = next(r for r in rows if r.action == "subscriber.erase")
    assert "leaver" not in erased.target + str(erased.detail)  # only the address's hash, as suppressions keep
    assert {a.value for a in Action} >= {a for a, *_ in web} | {a for a, *_ in cli}
    assert all(r.occurred_at is not None for r in rows)
