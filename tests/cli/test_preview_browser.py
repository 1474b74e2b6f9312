"""Acceptance: `newsletter preview` in Debian chromium shows an edit within 2 s, a broken file's located
error, and the email again once it is fixed. Nothing leaves 127.0.0.1 (remote images are refused)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.browser import chromium

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
NEWSLETTER = Path(sys.executable).parent / "newsletter"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    (tmp_path / "issues").mkdir()
    shutil.copytree(ROOT / "publications", tmp_path / "publications")
    issue = tmp_path / "issues" / "2026-12-11-steady-at-home.yaml"
    shutil.copy(ROOT / "issues" / issue.name, issue)
    port = _free_port()
    env = {**os.environ, "NEWSLETTER_CACHE_DIR": str(tmp_path / "cache")}
    log = (tmp_path / "preview.log").open("wb")
    process = subprocess.Popen(
        [str(NEWSLETTER), "preview", str(issue), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "preview.log").read_text(encoding="utf-8")
                time.sleep(0.1)
        yield url, issue
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(url) else route.abort()
    )
    page.goto(url)
    return page


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_edit_break_and_fix_an_issue_in_the_live_preview(preview: tuple[str, Path]) -> None:
    url, issue = preview
    with chromium() as browser:
        page = _page(browser, url)
        email = page.frame_locator("#email")
        email.locator("h1").wait_for()
        assert email.locator("h1").inner_text() == "Staying steady starts in your own kitchen"

        _replace(issue, "Staying steady starts in your own kitchen", "Steady feet, safer homes")
        email.locator("h1", has_text="Steady feet, safer homes").wait_for(timeout=2000)

        _replace(issue, '    text: "Steady feet, safer homes"', '    text: ["Steady feet"')
        error = page.locator("#problems li.error").first
        error.wait_for(timeout=2000)
        assert error.inner_text().startswith(f"{issue}:")
        assert "invalid YAML" in error.inner_text()
        assert page.locator("#email").count() == 0
        page.locator("#last-good").click()
        page.frame_locator("#email").locator("h1", has_text="Steady feet, safer homes").wait_for(timeout=2000)

        _replace(issue, '    text: ["Steady feet"', '    text: "Back on our feet"')
        page.goto(url)
        page.frame_locator("#email").locator("h1", has_text="Back on our feet").wait_for(timeout=2000)
        assert page.locator("#problems").count() == 0
