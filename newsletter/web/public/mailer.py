"""The double opt-in email: its text, sent through the transport services.py chooses (one seam)."""

from __future__ import annotations

from contextlib import closing
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import lru_cache
from pathlib import Path

from newsletter.content.load import load_publication
from newsletter.content.schema import Publication
from newsletter.errors import ConfigError
from newsletter.services import Services


@lru_cache(maxsize=4)
def publication(directory: Path) -> Publication:
    """The publication in `directory` (the first *.yaml by name): sender, name, address for public pages."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError(f"NEWSLETTER_PUBLICATIONS_DIR: no publication file in {directory}")
    return load_publication(files[0])[0]


def confirmation_message(
    pub: Publication, *, to: str, name: str | None, list_name: str, url: str
) -> EmailMessage:
    """The confirmation email: plain text with the one link to click."""
    message = EmailMessage()
    message["Subject"] = f"Please confirm your subscription to {list_name}"
    message["From"] = formataddr((pub.sender.name, pub.sender.email))
    message["To"] = to
    if pub.reply_to:
        message["Reply-To"] = pub.reply_to
    message["Message-ID"] = make_msgid(domain=pub.sender.email.rpartition("@")[2])
    greeting = f"Hello {name}," if name else "Hello,"
    message.set_content(
        f"{greeting}\n\nPlease confirm that you want to receive {list_name} from {pub.organization}:\n\n"
        f"{url}\n\nIf you did not ask for this, ignore this email: nothing will be sent to you.\n\n"
        f"{pub.organization}, {pub.postal_address}\n"
    )
    return message


class TransportConfirmationSender:
    """Sends confirmation emails through the configured transport (outbox, SMTP or SendGrid)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def send_confirmation(self, *, to: str, name: str | None, list_name: str, confirm_url: str) -> None:
        """Send one confirmation email containing `confirm_url`; DeliveryError when it was not accepted."""
        pub = publication(self.services.settings.publications_dir)
        message = confirmation_message(pub, to=to, name=name, list_name=list_name, url=confirm_url)
        with closing(self.services.transport()) as transport:
            transport.send_message(message)
