"""Links the layout builds from content: a button's target (page, number to text or call) and share links.

Share links point at the issue's public archive page (the publication's `web_base_url` + `archive_path`),
never at a reader's own view link, so a shared link names nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from newsletter.content.health import StudyType, study_type
from newsletter.content.schema import Action, ShareBlock

SHARE_LABELS = {
    "email": "Email",
    "facebook": "Facebook",
    "x": "X",
    "linkedin": "LinkedIn",
    "whatsapp": "WhatsApp",
}


@dataclass(frozen=True)
class Link:
    """A labelled link."""

    label: str
    url: str


def dial(number: str) -> str:
    """A phone number as a `tel:`/`sms:` link wants it: digits, with a leading + kept."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return ("+" if number.strip().startswith("+") else "") + digits


def action_href(action: Action) -> str:
    """Where a button goes: its URL, `sms:NUMBER?body=KEYWORD` or `tel:NUMBER`."""
    if action.sms is not None:
        body = f"?body={quote(action.sms.keyword, safe='')}" if action.sms.keyword else ""
        return f"sms:{dial(action.sms.number)}{body}"
    if action.tel is not None:
        return f"tel:{dial(action.tel)}"
    return action.url or ""


def action_hint(action: Action) -> str:
    """The words that say what a text or call button does, for screens that cannot text or call."""
    if action.sms is not None:
        if action.sms.keyword:
            return f"Text {action.sms.keyword} to {action.sms.number}"
        return f"Text us at {action.sms.number}"
    if action.tel is not None:
        return f"Call {action.tel}"
    return ""


def share_links(block: ShareBlock, archive_url: str, subject: str) -> list[Link]:
    """The share links of a share block, in its order, each carrying the archive page's URL."""
    url, title = quote(archive_url, safe=""), quote(subject, safe="")
    targets = {
        "email": f"mailto:?subject={title}&body={url}",
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={url}",
        "x": f"https://x.com/intent/tweet?url={url}&text={title}",
        "linkedin": f"https://www.linkedin.com/sharing/share-offsite/?url={url}",
        "whatsapp": f"https://wa.me/?text={title}%20{url}",
    }
    return [Link(SHARE_LABELS[name], targets[name]) for name in block.networks]


def evidence(value: str) -> StudyType | None:
    """The vocabulary entry of a study type (for its evidence level), None when it is not in it."""
    return study_type(value)
