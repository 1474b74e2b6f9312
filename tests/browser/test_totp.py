"""Issue 14: the second factor in Debian chromium: enable TOTP, sign in with a code, a wrong code,
a recovery code once (and not twice)."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from web_staff.helpers import PASSWORD, add_staff

from browser.conftest import LiveApp
from newsletter.db.audit import entries

pytestmark = pytest.mark.browser
EMAIL = "ed@example.org"


def _password_step(page: Any, app: LiveApp) -> None:
    page.goto(f"{app.url}/admin/issues")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _code_step(page: Any, code: str) -> None:
    page.wait_for_url("**/admin/login/code**")
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")


def _log_out(page: Any) -> None:
    page.click("text=Log out")
    page.wait_for_url("**/admin/login")


def test_enable_totp_then_sign_in_with_a_code_a_wrong_code_and_a_recovery_code_once(
    page: Any, live_app: LiveApp
) -> None:
    add_staff(live_app.services, EMAIL, "editor")
    _password_step(page, live_app)
    page.wait_for_url(f"{live_app.url}/admin/issues")  # no second factor yet: straight in

    page.goto(f"{live_app.url}/admin/account/totp")
    page.click("text=Show the QR code")
    assert page.locator("#totp-qr").get_attribute("src").startswith("data:image/svg+xml")
    assert page.locator("#totp-qr").evaluate("img => img.naturalWidth") > 100  # drawn, not a broken image
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("text=Turn it on")
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(codes) == 10
    _log_out(page)

    _password_step(page, live_app)
    _code_step(page, pyotp.TOTP(secret).at(time.time() + 30))  # the next step's code: the last one is used
    page.wait_for_url(f"{live_app.url}/admin/issues")
    _log_out(page)

    _password_step(page, live_app)
    right = {pyotp.TOTP(secret).at(time.time() + s) for s in (-30, 0, 30)}
    _code_step(page, next(c for c in ("000000", "111111", "222222") if c not in right))
    page.wait_for_selector("text=That code is not right")
    assert "/admin/login/code" in page.url
    page.fill("input[name=code]", codes[0])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_app.url}/admin/issues")
    _log_out(page)

    _password_step(page, live_app)
    _code_step(page, codes[0])  # a recovery code works once
    page.wait_for_selector("text=That code is not right")
    assert "newsletter_staff" not in {c["name"] for c in page.context.cookies()}

    with live_app.services.sessions() as session:
        actions = [e.action for e in reversed(entries(session, actor=EMAIL))]
    assert actions == [
        "login",
        "user.totp_enable",
        "logout",
        "login",
        "logout",
        "login.failed",
        "user.recovery_code_used",
        "login",
        "logout",
        "login.failed",
    ]
