"""One plain-text email through SendGrid's v3 mail/send with the official library: the confirmation email.

The bulk transport (deliver.transports.sendgrid) batches personalizations, merges values and handles
rate limits for sends; a subscriber waiting for their confirmation link needs one message, now, or a
clear error. Link tracking is switched off: SendGrid would otherwise rewrite the confirmation link.
A fresh client per message keeps the library's sticky request headers from leaking between calls.
"""

from __future__ import annotations

import http.client
from typing import Any

import orjson
from python_http_client.exceptions import HTTPError as ApiHTTPError
from sendgrid import SendGridAPIClient

from newsletter.errors import DeliveryError

TIMEOUT_SECONDS = 10.0


def mail_send_body(
    *, sender: tuple[str, str], to: str, subject: str, text: str, reply_to: str | None = None
) -> dict[str, Any]:
    """The v3 mail/send request for one plain-text message (sender: name, address)."""
    name, address = sender
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": to}]}],
        "from": {"email": address, "name": name} if name else {"email": address},
        "subject": subject,
        "content": [{"type": "text/plain", "value": text}],
        "tracking_settings": {
            "click_tracking": {"enable": False, "enable_text": False},
            "open_tracking": {"enable": False},
        },
    }
    if reply_to:
        body["reply_to"] = {"email": reply_to}
    return body


def send_one(body: dict[str, Any], *, api_key: str, host: str, timeout: float = TIMEOUT_SECONDS) -> None:
    """POST `body` to {host}/v3/mail/send; DeliveryError (retryable for 429, 5xx and network) unless 202."""
    client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
    try:
        response = client.client.mail.send.post(
            request_body=body, timeout=timeout
        )  # the library JSON-encodes
    except ApiHTTPError as exc:
        status = int(exc.status_code)
        raise DeliveryError(
            f"SendGrid refused the email (HTTP {status}): {_reason(exc.body)}",
            retryable=status == 429 or status >= 500,
        ) from None
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out (URLError is an OSError)
        raise DeliveryError(f"SendGrid could not be reached at {host}: {exc}", retryable=True) from None
    if response.status_code != 202:
        raise DeliveryError(f"SendGrid answered HTTP {response.status_code} instead of 202", retryable=True)


def _reason(raw: bytes | str | None) -> str:
    """The first error message in a SendGrid error body, or the start of the body."""
    try:
        data = orjson.loads(raw or b"")
        return str(data["errors"][0]["message"])
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        return text[:200] or "no details"
