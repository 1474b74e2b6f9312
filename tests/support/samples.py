"""Small sample batches for delivery tests: a publication, a hand-made rendered issue, recipients."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from newsletter.content.schema import Publication
from newsletter.deliver.transports.base import Envelope, OutgoingBatch
from newsletter.render import RenderedIssue
from newsletter.render.merge import MergeTemplate

HTML = (
    "<!DOCTYPE html><html><body>"
    "<p>Hello {first_name|Friend},</p>"
    "<p>Walking after dinner lowers blood sugar &amp; helps sleep.</p>"
    '<p><a href="{view_url}">View in browser</a> · <a href="{manage_url}">Preferences</a>'
    ' · <a href="{unsubscribe_url}">Unsubscribe</a></p>'
    "<p>Sent to {email}. Bye, {first_name|Friend}.</p>"
    "</body></html>"
)
TEXT = (
    "Hello {first_name|Friend},\n\n"
    "Walking after dinner lowers blood sugar & helps sleep.\n\n"
    "View in browser: {view_url}\nUnsubscribe: {unsubscribe_url}\n"
)
SUBJECT = "{first_name|Friend}, a short walk after dinner"


def publication(**overrides: Any) -> Publication:
    """A publication with an ASM group and one category (override any field)."""
    data: dict[str, Any] = {
        "name": "Daily Wellness Brief",
        "organization": "Northwind Health Press",
        "from": {"name": "Daily Wellness Brief", "email": "brief@northwind-health.example"},
        "reply_to": "readers@northwind-health.example",
        "postal_address": "100 Harbor Lane, Portland, ME 04101",
        "web_base_url": "https://northwind-health.example/brief",
        "default_list": "daily-brief",
        "sendgrid": {"asm_group_id": 4242, "categories": ["daily-brief"]},
    }
    data.update(overrides)
    return Publication.model_validate(data)


def rendered(html: str = HTML, text: str = TEXT, subject: str = SUBJECT) -> RenderedIssue:
    """A rendered issue made by hand, with merge tokens in subject, HTML and text."""
    digest = hashlib.sha256("\0".join((subject, html, text)).encode()).hexdigest()
    return RenderedIssue(
        slug="2026-11-20-test",
        subject=subject,
        preheader="",
        html=html,
        text=text,
        sha256=digest,
        html_template=MergeTemplate.compile(html, escape_html=True),
        text_template=MergeTemplate.compile(text, escape_html=False),
    )


def values(n: int, email: str | None = None) -> dict[str, str]:
    """Merge values of recipient number `n` (HTML-hostile first name on purpose)."""
    base = "https://northwind-health.example"
    return {
        "first_name": f"Ann <{n}> & Co",
        "name": f"Ann {n}",
        "email": email or address(n),
        "unsubscribe_url": f"{base}/u/tok{n}?list=daily&x=1",
        "manage_url": f"{base}/m/tok{n}",
        "view_url": f"{base}/v/2026-11-20",
    }


def address(n: int) -> str:
    """The address of recipient number `n`."""
    return f"reader{n}@example.org"


def envelopes(count: int, start: int = 1) -> list[Envelope]:
    """`count` recipients with delivery ids start, start+1, ..."""
    return [Envelope(n, address(n), values(n)) for n in range(start, start + count)]


def batch(
    recipients: int | Sequence[Envelope] = 3,
    *,
    send_id: int = 7,
    issue: RenderedIssue | None = None,
    **fields: Any,
) -> OutgoingBatch:
    """A batch of the sample issue to `recipients` (a count or envelopes)."""
    envs = envelopes(recipients) if isinstance(recipients, int) else list(recipients)
    return OutgoingBatch(
        send_id=send_id,
        rendered=issue or rendered(),
        publication=fields.pop("publication", None) or publication(),
        envelopes=envs,
        **fields,
    )
