"""The MIME message for one recipient: parts, headers, one-click unsubscribe."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

import pytest

from newsletter.content.schema import Publication
from newsletter.errors import RenderError
from newsletter.render import RenderedIssue
from newsletter.render.eml import build_message
from newsletter.render.sample import sample_values

from .conftest import VALUES, Render


def _parse(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_multipart_alternative_text_first_then_html(
    rendered_e_alert: RenderedIssue, publication: Publication
) -> None:
    message = build_message(rendered_e_alert, publication, to="Ann <ann@example.com>", values=VALUES)
    parsed = _parse(message)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    text, html = (p.get_content() for p in parts)
    assert "Dear Ann," in text
    assert "Unsubscribe: https://e-alert.example.org/u/tok123" in text
    assert 'href="https://e-alert.example.org/u/tok123"' in html
    assert "Ann" in html


def test_headers(rendered_e_alert: RenderedIssue, publication: Publication) -> None:
    when = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    message = build_message(
        rendered_e_alert,
        publication,
        to="ann@example.com",
        values=VALUES,
        message_id_domain="mail.example.org",
        date=when,
    )
    parsed = _parse(message)
    assert parsed["Subject"] == rendered_e_alert.subject
    assert parsed["From"] == "Everyday Health e-Alert <alerts@e-alert.example.org>"
    assert parsed["Reply-To"] == "editors@e-alert.example.org"
    assert parsed["To"] == "ann@example.com"
    assert parsed["Date"] == "Fri, 20 Nov 2026 11:00:00 +0000"
    assert parsed["Message-ID"].endswith("@mail.example.org>")
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["List-Unsubscribe"] == "<https://e-alert.example.org/u/tok123>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Id"] == "Everyday Health e-Alert <e-alert.e-alert.example.org>"


def test_message_id_defaults_to_the_sender_domain_and_date_to_now(
    rendered_e_alert: RenderedIssue, publication: Publication
) -> None:
    parsed = _parse(build_message(rendered_e_alert, publication, to="a@example.com", values=VALUES))
    assert parsed["Message-ID"].endswith("@e-alert.example.org>")
    assert parsed["Date"]


def test_personalised_non_ascii_subject(render: Render, publication: Publication) -> None:
    rendered = render(subject="{first_name|Friend}, café news — today")
    message = build_message(rendered, publication, to="a@example.com", values=VALUES | {"first_name": "Zoë"})
    assert "=?utf-8?" in message.as_string()
    assert _parse(message)["Subject"] == "Zoë, café news — today"


def test_unsubscribe_must_be_https(rendered_e_alert: RenderedIssue, publication: Publication) -> None:
    with pytest.raises(RenderError, match="https"):
        build_message(
            rendered_e_alert,
            publication,
            to="a@example.com",
            values=VALUES | {"unsubscribe_url": "http://x.org/u"},
        )


def test_a_long_unsubscribe_link_stays_a_plain_header(
    rendered_e_alert: RenderedIssue, publication: Publication
) -> None:
    """Mail clients only offer one-click unsubscribe when the header is a plain <https://...> value."""
    long_link = "https://e-alert.example.org/unsubscribe/" + "a" * 180
    values = sample_values(publication, "x") | {"unsubscribe_url": long_link}
    raw = build_message(rendered_e_alert, publication, to="r@example.org", values=values).as_bytes()
    header = next(line for line in raw.splitlines() if line.startswith(b"List-Unsubscribe:"))
    assert header == b"List-Unsubscribe: <" + values["unsubscribe_url"].encode() + b">"


def test_quoted_printable_lines_are_at_most_76_characters(
    rendered_e_alert: RenderedIssue, publication: Publication
) -> None:
    """RFC 2045 6.7: encoded lines no longer than 76 characters (long headers are another matter)."""
    message = build_message(rendered_e_alert, publication, to="reader@example.org", values=VALUES)
    raw = message.as_bytes().decode("ascii")
    headers, _, body = raw.partition("\r\n\r\n")
    assert "Content-Transfer-Encoding: quoted-printable" in body
    long_lines = [line for line in body.split("\r\n") if len(line) > 76]
    assert long_lines == []
    assert any(len(line) > 76 for line in headers.split("\r\n"))  # List-Unsubscribe stays unfolded
