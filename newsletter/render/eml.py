"""One recipient's MIME message (multipart/alternative, text then HTML) for SMTP and the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from newsletter import clock
from newsletter.content.schema import Publication
from newsletter.errors import RenderError
from newsletter.render import RenderedIssue, merge
from newsletter.render.merge import MergeTemplate

HEADER_POLICY = SMTP.clone(max_line_length=998)
"""Fold headers only past RFC 5322's 998-character limit, so a long List-Unsubscribe URL is never
turned into an encoded word (mail clients would not recognise the one-click link then)."""
BODY_POLICY = SMTP.clone(max_line_length=76)
"""The body parts are encoded under this policy: quoted-printable lines of at most 76 characters
(RFC 2045 section 6.7); the header policy's 998 would otherwise apply to them too."""


def build_message(
    rendered: RenderedIssue,
    publication: Publication,
    *,
    to: str,
    values: Mapping[str, str],
    message_id_domain: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """The merged message for one recipient, with one-click List-Unsubscribe headers."""
    html, text = merge(rendered, values)
    sender = publication.sender
    local, _, domain = sender.email.rpartition("@")
    message = EmailMessage(policy=HEADER_POLICY)
    message["Subject"] = MergeTemplate.compile(rendered.subject, escape_html=False).render(values)
    message["From"] = Address(sender.name, local, domain)
    if publication.reply_to:
        message["Reply-To"] = publication.reply_to
    message["To"] = to
    message["Date"] = format_datetime(date or clock.now())
    message["Message-ID"] = make_msgid(domain=message_id_domain or domain)
    message["MIME-Version"] = "1.0"
    _list_headers(message, publication, values["unsubscribe_url"])
    message.policy = BODY_POLICY  # the bodies are encoded now, with this policy's line length
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.policy = HEADER_POLICY  # headers are folded when the message is written
    for part in message.iter_parts():
        part.policy = HEADER_POLICY
    return message


def _list_headers(message: EmailMessage, publication: Publication, unsubscribe_url: str) -> None:
    """RFC 2369 / RFC 8058 headers: List-Id, List-Unsubscribe and one-click List-Unsubscribe-Post."""
    if urlsplit(unsubscribe_url).scheme != "https":
        raise RenderError(f"unsubscribe_url must be an https:// URL, got {unsubscribe_url!r}")
    if publication.default_list:
        host = urlsplit(publication.web_base_url).hostname
        message["List-Id"] = f"{publication.name} <{publication.default_list}.{host}>"
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
