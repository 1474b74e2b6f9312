"""The worker survives its database: a PostgreSQL server stopped as by a crash (`pg_ctl stop -m immediate`)
for 10 seconds mid-send. The long-running worker waits it out (one log line per failed try, no
traceback), keeps running, and finishes the send: everyone accepted exactly once, nothing unknown.

The server is a throwaway cluster this test starts on its own port (tests/support/pg_cluster.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pg_cluster import ClusterUnavailable, ThrowawayCluster
from support.sendgrid_recorder import SendGridRecorder, stall

from newsletter.db.migrate import upgrade
from newsletter.db.session import make_engine, make_session_factory

from .helpers import add_readers, cli_environment, counts, exactly_once, schedule, send_status, wait_until

READERS = 3_000


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    try:
        server = ThrowawayCluster()
        server.start()
    except ClusterUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"a throwaway PostgreSQL cluster is needed on CI: {exc}")
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.remove()


def test_the_long_running_worker_outlives_a_database_restart_and_sends_exactly_once(
    cluster: ThrowawayCluster, sendgrid_recorder: SendGridRecorder, tmp_path: Path
) -> None:
    engine = make_engine(cluster.url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(sessions)
    sendgrid_recorder.answer_every_request(stall(0.15))  # a send of some seconds: time to pull the plug
    env = cli_environment(
        cluster.url,
        NEWSLETTER_TRANSPORT="sendgrid",
        NEWSLETTER_SENDGRID_HOST=sendgrid_recorder.url,
        SENDGRID_API_KEY="SG.test",
    )
    command = [sys.executable, "-m", "newsletter", "worker", "--quiet", "--poll", "1", "--batch-size", "100"]
    worker = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: len(sendgrid_recorder.requests) >= 5, what="the send under way")
        cluster.stop("immediate")
        time.sleep(10)
        assert worker.poll() is None, "the worker exited while the database was down"
        cluster.start()
        engine.dispose()
        wait_until(lambda: send_status(sessions, send_id) == "sent", timeout=120, what="the send finished")
        assert worker.poll() is None, "the worker exited"
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=60)

    assert worker.returncode == 0, err
    assert "Traceback" not in err, err
    assert "database unavailable" in err
    assert exactly_once(sendgrid_recorder.accepted_recipients) == {}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    assert counts(sessions, send_id) == {"accepted": READERS}
    engine.dispose()
