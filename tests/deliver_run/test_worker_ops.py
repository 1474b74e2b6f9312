"""A long-running worker as an operator watches it: its own /metrics port (heartbeat, batches, recipients,
sends) and its log as JSON lines, each carrying the ids it is about."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker
from support.smtp_server import free_port

from .helpers import add_readers, cli_environment, schedule, send_status, wait_until


def _metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_running_worker_serves_its_metrics_and_logs_json_lines_with_send_ids(
    database_url: str, session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    add_readers(session, "daily-brief", 12)
    send_id = schedule(session_factory, transport="outbox")
    port = free_port()
    env = cli_environment(
        database_url, NEWSLETTER_LOG_FORMAT="json", NEWSLETTER_WORKER_METRICS_PORT=str(port),
        NEWSLETTER_OUTBOX_DIR=str(tmp_path / "outbox"),
    )  # fmt: skip
    command = [sys.executable, "-m", "newsletter", "worker", "--quiet", "--poll", "0.2", "--batch-size", "5"]
    worker = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: send_status(session_factory, send_id) == "sent", what="the send to finish")
        wait_until(lambda: _metrics(port).get(("newsletter_worker_sends_total", (("status", "sent"),))) == 1)
        seen = _metrics(port)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)

    assert worker.returncode == 0, err
    assert seen[("newsletter_worker_batches_total", ())] == 3
    assert seen[("newsletter_worker_recipients_total", ())] == 12
    assert seen[("newsletter_worker_heartbeat_timestamp_seconds", ())] > 0
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    [finished] = [line for line in lines if line.get("send_id") == send_id]
    assert finished["message"] == f"send {send_id} sent (12 accepted)"
    assert (finished["level"], finished["logger"], finished["status"]) == (
        "INFO",
        "newsletter.worker",
        "sent",
    )
