"""Issue 14, findings 1, 3 and 6: trusted hosts and links, bounded bodies, security headers everywhere."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from support.smtp_server import free_port

from newsletter.audience.people.lists import create_list
from newsletter.services import Services
from web_staff.helpers import add_staff, log_in

TEMPLATES = Path(__file__).resolve().parents[2] / "newsletter" / "web" / "templates"
MB = 1024 * 1024


def test_an_unknown_host_header_is_refused_and_links_come_from_the_publication(
    staff_client: TestClient, staff_services: Services
) -> None:
    with staff_services.sessions() as session:
        daily = create_list(session, "e-Alert", double_opt_in=True).public_id
    form = {"email": "victim@example.org", "list": daily}
    attacked = staff_client.post("/subscribe", data=form, headers={"Host": "attacker.example"})
    assert attacked.status_code == 400
    assert not (staff_services.settings.outbox_dir / "messages").exists()  # nothing mailed

    staff_client.post("/subscribe", data=form)  # on a trusted host (127.0.0.1)
    [mail] = (staff_services.settings.outbox_dir / "messages").glob("*.eml")
    text = mail.read_text()
    assert "https://e-alert.example.org/subscribe/confirm/" in text
    assert "127.0.0.1" not in text

    feed = staff_client.get("/archive/feed.atom", headers={"Host": "localhost:8000"}).text
    assert "<id>https://e-alert.example.org/archive/</id>" in feed
    assert "localhost" not in feed
    assert 'href="/static/public.css"' in staff_client.get("/subscribe").text
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    assert 'href="/static/staff.css"' in staff_client.get("/admin/issues").text


def test_health_probes_are_not_refused_for_their_host(staff_client: TestClient) -> None:
    """Probes may use the pod's address as Host; /healthz and /readyz are the ops pages' (404 until then)."""
    for path in ("/healthz", "/readyz", "/metrics"):
        assert staff_client.get(path, headers={"Host": "10.1.2.3:8000"}).status_code != 400
    assert staff_client.get("/subscribe", headers={"Host": "10.1.2.3:8000"}).status_code == 400


def test_bodies_over_the_limit_are_refused_with_413(
    staff_client: TestClient, staff_services: Services
) -> None:
    big = b"x" * (staff_services.settings.max_public_body_bytes + 1)
    for path in ("/subscribe", "/unsubscribe/anything", "/preferences/anything", "/archive/"):
        assert staff_client.post(path, content=big).status_code == 413, path
    staff_big = b"x" * (staff_services.settings.max_staff_body_bytes + 1)
    assert staff_client.post("/admin/login", content=staff_big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while streaming
        for _ in range(40):
            yield b"y" * 64 * 1024

    assert staff_client.post("/unsubscribe/anything", content=chunks()).status_code == 413
    webhook = b"[" + b" " * (5 * MB) + b"]"
    assert staff_client.post("/webhooks/sendgrid", content=webhook).status_code == 413


def _headers_ok(response: object, *, no_store: bool) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in ("no-referrer", "same-origin")
    assert ("no-store" in headers.get("cache-control", "")) is no_store


def test_security_headers_on_staff_public_json_csv_and_error_responses(
    staff_client: TestClient, staff_services: Services
) -> None:
    from events.helpers import make_send

    with staff_services.sessions() as session:
        send_id, _ = make_send(session, ["a@x.org"])
        session.commit()
    _headers_ok(staff_client.get("/subscribe"), no_store=True)
    _headers_ok(staff_client.get("/unsubscribe/some-token"), no_store=True)
    _headers_ok(staff_client.get("/preferences/some-token"), no_store=True)
    _headers_ok(staff_client.get("/archive/"), no_store=False)
    _headers_ok(staff_client.get("/archive/feed.atom"), no_store=False)
    _headers_ok(staff_client.get("/no/such/page"), no_store=False)
    _headers_ok(staff_client.get("/admin/login"), no_store=True)
    add_staff(staff_services, "ops@example.org", "operations")
    log_in(staff_client, "ops@example.org")
    send = f"/admin/sends/{send_id}"
    pages = [send + "/progress.json", send + "/report.json", send + "/report.csv", send + "/report"]
    for path in ["/admin/sends", *pages, "/admin/sends/424242"]:
        response = staff_client.get(path)
        assert response.status_code in (200, 404), path
        _headers_ok(response, no_store=True)
    preview = staff_client.get("/admin/issues/2026-11-20-muscle-loss-culprit/preview.html")
    assert preview.headers["content-security-policy"].startswith("sandbox allow-popups")
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"<style|\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path


# ---------------------------------------------------------------- memory under large bodies (real server)


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found
    return int(found.group(1)) / 1024


def _post_large(port: int, path: str, size: int, *, chunked: bool, results: list[str]) -> None:
    """Send a `size`-byte body (declared, or chunked) while reading the answer on the side."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", port))
    answer = bytearray()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                answer.extend(chunk)
        except OSError:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    block = b"a" * MB
    try:
        sock.sendall(head.encode())
        for _ in range(size // MB):
            sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server stopped reading and closed the connection: expected
    reader.join(30)
    sock.close()
    results.append(answer.split(b"\r\n", 1)[0].decode(errors="replace"))


@pytest.fixture
def served_app(database_url: str, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """The app under uvicorn in a child process (so its memory is its own): (port, pid)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("reads peak memory from /proc (Linux)")
    port = free_port()
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": database_url, "NEWSLETTER_SECRET_KEY": "test-secret"}
    env.pop("NEWSLETTER_CONFIG_FILE", None)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "newsletter.web.app:app_from_environment",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "uvicorn did not start"
                assert process.poll() is None, "uvicorn stopped"
                time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(20)


def test_large_public_posts_get_413_and_server_memory_stays_under_300_mb(served_app: tuple[int, int]) -> None:
    port, pid = served_app
    results: list[str] = []
    _post_large(port, "/unsubscribe/anything", 10 * MB, chunked=False, results=results)
    assert results == ["HTTP/1.1 413 Request Entity Too Large"]
    chunked = {"chunked": True, "results": results}
    attacks = [
        threading.Thread(target=_post_large, args=(port, path, 100 * MB), kwargs=chunked)
        for path in ("/unsubscribe/anything", "/subscribe", "/preferences/x", "/unsubscribe/other")
    ]
    for thread in attacks:
        thread.start()
    for thread in attacks:
        thread.join(60)
    assert all(line in ("HTTP/1.1 413 Request Entity Too Large", "") for line in results), results
    assert _peak_rss_mb(pid) < 300
