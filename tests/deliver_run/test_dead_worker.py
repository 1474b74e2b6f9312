"""Dead workers found fast: a worker on another host SIGKILLed mid-send on PostgreSQL. Its heartbeat
stops, so after two missed beats its claims are recovered (the batch it claimed ahead is sent by the
other worker, the one in flight becomes unknown) and the send finishes, well within 30 seconds with a
1-second heartbeat. `worker --once` waits for claims held by live workers instead of exiting.

"Another host" is a worker in its own UTS namespace (`unshare --uts`) with its own host name, so the
process check that finds dead workers on this host cannot see it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import SendGridRecorder, accept, stall

from .helpers import (
    Workers,
    add_readers,
    cli_environment,
    counts,
    exactly_once,
    request_recipients,
    schedule,
    send_status,
    wait_until,
)

READERS, BATCH = 1_000, 100
ON_ANOTHER_HOST = ["unshare", "--uts", "sh", "-c", 'hostname other-host && exec "$0" "$@"']


def another_host_available() -> str | None:
    """Why a worker cannot be started under another host name here, or None."""
    try:
        done = subprocess.run([*ON_ANOTHER_HOST, "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare: {exc}"
    return None if done.returncode == 0 else f"unshare --uts: {done.stderr.strip()} (needs root)"


def test_a_worker_killed_on_another_host_has_its_batches_recovered_within_30_seconds(
    backend: str,
    session: Session,
    session_factory: sessionmaker[Session],
    database_url: str,
    sendgrid_recorder: SendGridRecorder,
    worker_processes: Workers,
    tmp_path: Path,
) -> None:
    if backend != "postgresql":
        pytest.skip("workers on several hosts share a send on PostgreSQL (SQLite: one leased worker)")
    if why := another_host_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why)
        pytest.skip(why)
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory)
    sendgrid_recorder.script(accept(), accept(), stall(60))  # the third request is taken, then held
    env = cli_environment(
        database_url,
        NEWSLETTER_TRANSPORT="sendgrid",
        NEWSLETTER_SENDGRID_HOST=sendgrid_recorder.url,
        SENDGRID_API_KEY="SG.test",
    )
    settings = ["--batch-size", str(BATCH), "--heartbeat", "1"]
    command = [*ON_ANOTHER_HOST, sys.executable, "-m", "newsletter", "worker", "--once", "--quiet", *settings]
    elsewhere = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    worker_processes.started.append(elsewhere)  # killed at the end whatever happens
    wait_until(lambda: len(sendgrid_recorder.requests) == 3, what="the third request")

    worker_processes.kill(elsewhere)
    killed_at = time.monotonic()
    out = worker_processes.finish(worker_processes.start(env, *settings), timeout=60)
    recovered_in = time.monotonic() - killed_at

    assert recovered_in < 30, f"the dead worker's batches took {recovered_in:.0f} s to recover"
    assert send_status(session_factory, send_id) == "sent"
    assert f"send {send_id}: sent" in out
    held = set(request_recipients(sendgrid_recorder.requests[2].body))
    assert exactly_once(sendgrid_recorder.accepted_recipients) == {}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone  # the held one was taken too
    assert counts(session_factory, send_id) == {"accepted": READERS - BATCH, "unknown": BATCH}
    assert len(held) == BATCH
