"""`newsletter serve` runs the app under uvicorn on 127.0.0.1: a batch posted over real HTTP is stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from click.testing import CliRunner
from events.helpers import WebhookKey, body_of, event, make_send
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.smtp_server import free_port

from newsletter.cli import main
from newsletter.db.tables import Event

STARTUP_SECONDS = 20


@pytest.fixture(params=[1, 2], ids=["one-worker", "two-workers"])
def server(
    database_url: str, webhook_key: WebhookKey, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """`newsletter serve [--workers 2]` in a child process on a free port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": database_url,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": webhook_key.public_b64,
        "NEWSLETTER_SECRET_KEY": "test-secret",
    }
    env.pop("NEWSLETTER_CONFIG_FILE", None)
    command = [sys.executable, "-m", "newsletter", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(request.param)]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
        assert process.returncode in (0, -signal.SIGTERM), output.decode(errors="replace")
        assert b"Application shutdown complete" in output


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"newsletter serve exited: {output}")
        try:
            httpx.get(f"{base}/static/app.css", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("newsletter serve did not start")


def test_serve_stores_a_signed_batch_posted_over_http(
    server: str, webhook_key: WebhookKey, session: Session
) -> None:
    _, (ann,) = make_send(session, ["ann@gmail.com"])
    body = body_of([event("delivered", ann), event("open", ann)])
    response = httpx.post(f"{server}/webhooks/sendgrid", content=body, headers=webhook_key.headers(body))
    again = httpx.post(f"{server}/webhooks/sendgrid", content=body, headers=webhook_key.headers(body))
    assert (response.status_code, response.json()["stored"]) == (200, 2)
    assert again.json()["stored"] == 0
    assert session.scalar(select(func.count()).select_from(Event)) == 2


def test_serve_refuses_an_unusable_webhook_key_with_one_line(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", "bm90IGEga2V5")
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert result.output == "error: SENDGRID_WEBHOOK_PUBLIC_KEY: not a base64 DER public key\n"
