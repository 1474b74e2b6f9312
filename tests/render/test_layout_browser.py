"""Acceptance: the e-Alert in Debian chromium is a centred 600px column on desktop, one column on mobile.

Remote images are answered with a local PNG and every other non-file request is refused, so nothing
leaves the machine. Skipped without chromium or playwright, except on CI (CI=true), where it fails.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.browser import chromium

from newsletter.render import RenderedIssue, merge

from .conftest import VALUES

pytestmark = pytest.mark.browser


def _png(width: int, height: int) -> bytes:
    """A small solid PNG, written by hand so the test needs no image library."""
    row = b"\x00" + bytes((90, 140, 150)) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def email_file(rendered_e_alert: RenderedIssue, tmp_path: Path) -> Path:
    html, _ = merge(rendered_e_alert, VALUES)
    path = tmp_path / "e-alert.html"
    path.write_text(html, encoding="utf-8")
    return path


def _open(browser: Any, path: Path, width: int, refused: list[str]) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    image = _png(400, 120)

    def route(route: Any) -> None:
        request = route.request
        if request.url.startswith("file://"):
            route.continue_()
        elif request.resource_type == "image":
            route.fulfill(status=200, body=image, content_type="image/png")
        else:
            refused.append(request.url)
            route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def _boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return [el.bounding_box() for el in page.query_selector_all(selector)]


def test_desktop_is_a_centred_600px_column(browser: Any, email_file: Path, tmp_path: Path) -> None:
    refused: list[str] = []
    page = _open(browser, email_file, 800, refused)
    page.screenshot(path=str(tmp_path / "e-alert-800.png"), full_page=True)
    cards = _boxes(page, ".nl-card, .nl-footer, .nl-topbar")
    assert len(cards) >= 4
    for box in cards:
        assert box["width"] == pytest.approx(600, abs=1)
        right = 800 - (box["x"] + box["width"])
        assert box["x"] == pytest.approx(right, abs=2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    assert refused == []
    page.close()


def test_mobile_is_one_full_width_column(browser: Any, email_file: Path, tmp_path: Path) -> None:
    refused: list[str] = []
    page = _open(browser, email_file, 375, refused)
    page.screenshot(path=str(tmp_path / "e-alert-375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    cards = _boxes(page, ".nl-card, .nl-footer, .nl-topbar")
    assert {round(box["x"]) for box in cards} == {0}
    assert all(box["width"] <= 375 for box in cards)
    blocks = _boxes(page, ".nl-card td.nl-txt")
    assert len({round(box["x"]) for box in blocks}) == 1  # stacked, never side by side
    assert max(box["x"] + box["width"] for box in blocks) <= 375
    text_left = _boxes(page, ".nl-prose p")[0]["x"]
    assert text_left == pytest.approx(20, abs=1)  # the mobile padding rule survived premailer
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.nl-prose p')).fontSize)")
    assert size >= 16
    assert refused == []
    page.close()


def test_dark_mode_recolours_the_card(browser: Any, email_file: Path) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 900}, color_scheme="dark")
    page.route(
        "**/*",
        lambda route: route.abort() if not route.request.url.startswith("file://") else route.continue_(),
    )
    page.goto(email_file.as_uri())
    background = page.evaluate("getComputedStyle(document.querySelector('.nl-card')).backgroundColor")
    assert background == "rgb(28, 31, 35)"
    page.close()
