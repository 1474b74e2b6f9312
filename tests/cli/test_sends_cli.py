"""`newsletter send / sends / worker / pause / resume / cancel / reconcile / demo`, as an editor runs them."""

from __future__ import annotations

import email
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import FrozenClock
from deliver_run.helpers import ISSUES, add_readers, counts, schedule, send_status, stored_jobs
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import SendGridRecorder

from newsletter import services
from newsletter.audience.people.lists import get_list
from newsletter.audience.readers.preferences import unsubscribe
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.cli import main
from newsletter.db.tables import Send, Subscriber
from newsletter.deliver.transports.memory import MemoryTransport

ISSUE = ISSUES / "2026-11-20-muscle-loss-culprit.yaml"
READERS = 25


@pytest.fixture
def recorder() -> Iterator[SendGridRecorder]:
    """The recording SendGrid stand-in."""
    with SendGridRecorder(api_key="SG.test") as standin:
        yield standin


def sendgrid_env(recorder: SendGridRecorder) -> dict[str, str]:
    """Settings that send through the recording stand-in."""
    return {
        "NEWSLETTER_TRANSPORT": "sendgrid",
        "NEWSLETTER_SENDGRID_HOST": recorder.url,
        "SENDGRID_API_KEY": "SG.test",
    }


def run(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200", **env})


def ok(*args: str, **env: str) -> Result:
    result = run(*args, **env)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result


def messages(folder: Path) -> list[EmailMessage]:
    found = [
        email.message_from_bytes(path.read_bytes(), policy=default) for path in sorted(folder.glob("*.eml"))
    ]
    return [m for m in found if isinstance(m, EmailMessage)]


def send_id_of(result: Result) -> int:
    """`send` prints the new send's id on its last line."""
    return int(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the demo, with nothing configured


def test_demo_on_a_fresh_machine_says_where_the_messages_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "NEWSLETTER_DATABASE_URL",
        "NEWSLETTER_SECRET_KEY",
        "NEWSLETTER_TRANSPORT",
        "NEWSLETTER_OUTBOX_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NEWSLETTER_CONFIG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)

    out = ok("demo").stdout

    folder = Path("var/outbox/send-1")
    assert f"send 1 sent: 240 messages in {folder}/" in out
    assert "open one: var/outbox/send-1/" in out
    opened = Path(out.strip().splitlines()[-1].removeprefix("open one: "))
    assert opened.is_file()
    assert len(messages(folder)) == 240
    assert (tmp_path / "var" / "secret.key").is_file()


# ---------------------------------------------------------------- send + worker through the outbox


def test_send_then_worker_writes_one_message_per_reader_each_with_their_own_working_unsubscribe_link(
    cli_env: str, session: Session, signer: TokenSigner
) -> None:
    everyone = add_readers(session, "daily-brief", READERS)
    scheduled = ok("send", str(ISSUE), "--list", "daily-brief")
    send_id = send_id_of(scheduled)
    assert f"to daily-brief ({READERS} recipients now)" in scheduled.stdout

    worked = ok("worker", "--once")

    assert worked.stdout.strip() == f"send {send_id}: sent ({READERS} accepted)"
    written = messages(Path("var/outbox") / f"send-{send_id}")
    assert sorted(m["To"] for m in written) == everyone
    public_ids = dict(session.execute(select(Subscriber.email, Subscriber.public_id)).all())
    list_id = get_list(session, "daily-brief").public_id
    links = set()
    for message in written:
        n = int(message["To"].removeprefix("reader").partition("@")[0])
        assert f"Dear Ann{n}," in message.get_body(("plain",)).get_content()
        link = message["List-Unsubscribe"].strip("<>")
        links.add(link)
        assert signer.read_unsubscribe(link.rsplit("/", 1)[1]) == (public_ids[message["To"]], (list_id,))
    assert len(links) == READERS
    first = written[0]
    result = unsubscribe(session, signer, first["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1])
    assert result.message == "You are unsubscribed from daily-brief."


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[MemoryTransport]:
    """Every transport the CLI builds, as a recording double (`.closed` counts close calls)."""
    made: list[MemoryTransport] = []

    def make(settings: object, name: str) -> MemoryTransport:
        made.append(MemoryTransport())
        return made[-1]

    monkeypatch.setattr(services, "make_transport", make)
    return made


def test_send_and_worker_close_every_transport_they_build(
    cli_env: str, session: Session, built: list[MemoryTransport]
) -> None:
    add_readers(session, "daily-brief", 3)
    ok("send", str(ISSUE), "--test-to", "editor@example.org")
    assert sum(len(t.delivered) for t in built) == 1
    assert [t.closed for t in built] == [1] * len(built)
    built.clear()
    send_id = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief"))

    # the worker's own transport ("memory") and the one its runner builds for the send's ("outbox")
    assert ok("worker", "--once").stdout.strip() == f"send {send_id}: sent (3 accepted)"

    assert len(built) == 3
    assert sum(len(t.delivered) for t in built) == 3
    assert [t.closed for t in built] == [1, 1, 1]


def test_sends_lists_each_send_with_its_progress(cli_env: str, session: Session) -> None:
    add_readers(session, "daily-brief", 3)
    sent = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief"))
    ok("worker", "--once")
    waiting = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief", "--at", "2031-01-05 07:00"))

    table = ok("sends").stdout

    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.startswith("│")}
    cells = [cell.strip() for cell in rows[str(sent)].split("│")[1:-1]]
    assert cells[1:4] == ["2026-11-20-muscle-loss-culprit", "daily-brief", "sent"]
    assert cells[5:] == ["3/3", "3", "0", "0", "0"]
    cells = [cell.strip() for cell in rows[str(waiting)].split("│")[1:-1]]
    assert cells[3:6] == ["scheduled", "2031-01-05 12:00", "0/0"]  # 07:00 New York is 12:00 UTC


def test_editing_the_issue_after_scheduling_does_not_change_the_send(
    cli_env: str, session: Session, tmp_path: Path
) -> None:
    add_readers(session, "daily-brief", 2)
    shutil.copytree(ISSUES.parent / "publications", tmp_path / "publications")
    (tmp_path / "issues").mkdir()
    issue = tmp_path / "issues" / ISSUE.name
    shutil.copy(ISSUE, issue)
    send_id = send_id_of(ok("send", str(issue), "--list", "daily-brief"))
    original = issue.read_text()
    issue.write_text(original.replace("Dear {first_name|Friend},", "Hello again {first_name|Friend},"))

    ok("worker", "--once")

    for message in messages(Path("var/outbox") / f"send-{send_id}"):
        text = message.get_body(("plain",)).get_content()
        assert "Dear Ann" in text
        assert "Hello again" not in text


def test_a_send_at_a_later_time_is_not_run_early_and_runs_once_due(
    cli_env: str,
    engine: Engine,
    session: Session,
    session_factory: sessionmaker[Session],
    frozen_clock: FrozenClock,
) -> None:
    add_readers(session, "daily-brief", 4)
    scheduled = ok("send", str(ISSUE), "--list", "daily-brief", "--at", "2026-11-20 09:30", "--tz", "UTC")
    send_id = send_id_of(scheduled)
    assert "for 2026-11-20 09:30 UTC" in scheduled.stdout  # the clock says 06:00 UTC
    assert stored_jobs(engine)[f"send-{send_id}"] == frozen_clock.now().timestamp() + 3.5 * 3600

    assert ok("worker", "--once").stdout == ""
    assert send_status(session_factory, send_id) == "scheduled"
    assert counts(session_factory, send_id) == {}

    frozen_clock.advance(hours=3, minutes=30)
    assert ok("worker", "--once").stdout.strip() == f"send {send_id}: sent (4 accepted)"


# ---------------------------------------------------------------- test sends


def test_a_test_send_goes_only_to_the_given_addresses_marked_as_a_test(
    cli_env: str, session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_readers(session, "daily-brief", 5)

    result = ok("send", str(ISSUE), "--test-to", "editor@example.org, Chief@Example.org")

    send_id = send_id_of(result)
    assert result.stdout.splitlines()[0] == (
        f"test send {send_id}: 2 accepted to editor@example.org, chief@example.org"
    )
    written = messages(Path("var/outbox") / f"send-{send_id}")
    assert sorted(m["To"] for m in written) == ["chief@example.org", "editor@example.org"]
    assert {m["X-Newsletter-Test"] for m in written} == {"1"}
    assert "Dear Alex," in written[0].get_body(("plain",)).get_content()  # the sample reader's values
    with session_factory() as db:
        send = db.get_one(Send, send_id)
        assert (send.is_test, send.test_recipients, send.status) == (
            True,
            ["editor@example.org", "chief@example.org"],
            "sent",
        )
    assert counts(session_factory, send_id) == {"accepted": 2}
    assert "test: editor@example.org, chief@example.org" in ok("sends").stdout


def test_a_test_send_through_sendgrid_is_tagged_as_a_test(
    cli_env: str, session: Session, recorder: SendGridRecorder
) -> None:
    add_readers(session, "daily-brief", 5)
    env = sendgrid_env(recorder)

    ok("send", str(ISSUE), "--test-to", "editor@example.org", **env)

    (body,) = recorder.accepted
    assert recorder.accepted_recipients == ["editor@example.org"]
    assert "test" in body["categories"]
    assert body["personalizations"][0]["custom_args"]["test"] == "1"


# ---------------------------------------------------------------- pause, resume, cancel, reconcile


def test_pause_resume_and_cancel_answer_in_one_line(
    cli_env: str, session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_readers(session, "daily-brief", 2)
    send_id = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief", "--at", "2031-01-05 07:00"))

    assert ok("pause", str(send_id)).stdout == f"send {send_id} is paused\n"
    refused = run("pause", str(send_id))
    assert (refused.exit_code, refused.stderr) == (1, f"error: send {send_id} is paused; cannot pause it\n")
    assert ok("resume", str(send_id)).stdout == f"send {send_id} is scheduled\n"
    assert ok("cancel", str(send_id)).stdout == f"send {send_id} is cancelled\n"
    refused = run("resume", str(send_id))
    assert refused.stderr == f"error: send {send_id} is cancelled; cannot resume it\n"
    missing = run("cancel", "999")
    assert (missing.exit_code, missing.stderr) == (1, "error: no send '999' (see `newsletter sends`)\n")
    assert ok("reconcile", str(send_id)).stdout == "0 unknown; 0 queued again\n"


def test_a_worker_refuses_an_altered_send_names_it_and_still_sends_the_others(
    cli_env: str, session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_readers(session, "daily-brief", 3)
    altered = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief"))
    fine = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief"))
    with session_factory.begin() as db:
        db.execute(update(Send).where(Send.id == altered).values(subject="Something else entirely"))

    result = run("worker", "--once")

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: send {altered}: the stored issue does not match its sha256; refusing to send\n"
    )
    assert f"send {altered}: failed (nothing to do)" in result.stdout
    assert f"send {fine}: sent (3 accepted)" in result.stdout
    assert send_status(session_factory, altered) == "failed"


# ---------------------------------------------------------------- settings: one line at start-up


SETTING_ERRORS = [
    (
        {"NEWSLETTER_TRANSPORT": "sendgrid"},
        "error: SENDGRID_API_KEY is required when NEWSLETTER_TRANSPORT=sendgrid",
    ),
    (
        {"NEWSLETTER_TRANSPORT": "smtp"},
        "error: NEWSLETTER_SMTP_URL is required when NEWSLETTER_TRANSPORT=smtp",
    ),
    (
        {"NEWSLETTER_TRANSPORT": "smtp", "NEWSLETTER_SMTP_URL": "mail.example.org:25"},
        "error: NEWSLETTER_SMTP_URL: Value error, must look like smtp://user:pass@host:port",
    ),
    ({"NEWSLETTER_TRANSPORT": "pigeon"}, "error: NEWSLETTER_TRANSPORT: Input should be 'outbox', 'smtp' or"),
    (
        {
            "NEWSLETTER_TRANSPORT": "sendgrid",
            "SENDGRID_API_KEY": "SG.x",
            "NEWSLETTER_SENDGRID_HOST": "api.sendgrid",
        },
        "error: NEWSLETTER_SENDGRID_HOST: Value error, must be an http(s):// base URL",
    ),
    ({"NEWSLETTER_SECRET_KEY": ""}, "error: NEWSLETTER_SECRET_KEY is not set"),
]


@pytest.mark.parametrize(("settings", "message"), SETTING_ERRORS, ids=lambda v: str(v)[:40])
@pytest.mark.parametrize("command", ["worker", "send"])
def test_a_missing_or_wrong_setting_is_one_line_naming_it_before_anything_happens(
    command: str,
    settings: dict[str, str],
    message: str,
    cli_env: str,
    session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    add_readers(session, "daily-brief", 2)
    waiting = schedule(session_factory)
    args = ["worker", "--once"] if command == "worker" else ["send", str(ISSUE), "--list", "daily-brief"]

    result = run(*args, **settings)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # not a traceback
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(message)
    assert result.stdout == ""
    assert send_status(session_factory, waiting) == "scheduled"  # nothing was started
    assert counts(session_factory, waiting) == {}
    with session_factory() as db:
        assert db.scalars(select(Send.id)).all() == [waiting]  # nothing was scheduled


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql+psycopg://nobody@127.0.0.1:9/nowhere",
            "error: NEWSLETTER_DATABASE_URL: cannot use postgresql+psycopg://nobody@127.0.0.1:9/nowhere: ",
        ),
        (
            "sqlite:///{tmp}/empty.db",
            "error: NEWSLETTER_DATABASE_URL: sqlite:///{tmp}/empty.db is at revision none",
        ),
    ],
    ids=["unreachable", "not-migrated"],
)
@pytest.mark.parametrize("command", ["worker", "send", "sends"])
def test_a_database_that_cannot_be_used_is_one_line_naming_the_setting(
    command: str, url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", url.format(tmp=tmp_path))
    monkeypatch.chdir(tmp_path)
    args = {"worker": ["worker", "--once"], "send": ["send", str(ISSUE), "--list", "x"], "sends": ["sends"]}

    result = run(*args[command])

    assert (result.exit_code, type(result.exception)) == (1, SystemExit)
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(message.format(tmp=tmp_path))


# ---------------------------------------------------------------- each send through its own transport


def test_the_worker_finishes_a_send_through_the_transport_it_was_scheduled_with(
    cli_env: str, session: Session, session_factory: sessionmaker[Session], recorder: SendGridRecorder
) -> None:
    everyone = add_readers(session, "daily-brief", 4)
    send_id = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief", NEWSLETTER_TRANSPORT="outbox"))
    sendgrid = sendgrid_env(recorder)

    worked = ok("worker", "--once", **sendgrid)

    assert worked.stdout.strip() == f"send {send_id}: sent (4 accepted)"
    assert recorder.requests == []
    written = messages(Path("var/outbox") / f"send-{send_id}")
    assert sorted(m["To"] for m in written) == everyone


def test_a_send_whose_transport_this_worker_cannot_build_fails_saying_why(
    cli_env: str, session: Session, session_factory: sessionmaker[Session], recorder: SendGridRecorder
) -> None:
    add_readers(session, "daily-brief", 2)
    sendgrid = sendgrid_env(recorder)
    send_id = send_id_of(ok("send", str(ISSUE), "--list", "daily-brief", **sendgrid))

    result = run("worker", "--once", NEWSLETTER_TRANSPORT="outbox")

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: send {send_id} was scheduled for transport 'sendgrid', unavailable here: "
        "SENDGRID_API_KEY is required when NEWSLETTER_TRANSPORT=sendgrid\n"
    )
    assert send_status(session_factory, send_id) == "failed"
    assert recorder.requests == []
    assert not Path("var/outbox").exists()
