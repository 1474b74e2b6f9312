"""Debian chromium through playwright for the browser tests, and the skip-or-fail rule for missing tools."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Flags for headless chromium on this closed network (no background connections that would be refused)."""


def require_tool(available: bool, reason: str) -> None:
    """Skip when a system tool is missing, except on CI (CI=true), where that is a failure."""
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: acceptance tools must be installed)")
    pytest.skip(reason)


def tool_on_path(name: str) -> bool:
    """Whether an executable is on PATH."""
    return shutil.which(name) is not None


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian chromium (skipped, or failed on CI, when it or playwright is missing)."""
    require_tool(tool_on_path(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        require_tool(False, "the playwright package is not installed")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
