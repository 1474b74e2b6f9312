"""The double opt-in email and the subscribed notice, sent through the transport services.py chooses
(one seam)."""

from __future__ import annotations

from contextlib import closing
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from newsletter.content.schema import Publication
from newsletter.services import Services
from newsletter.web.site import publication


def confirmation_message(
    pub: Publication, *, to: str, name: str | None, list_name: str, url: str
) -> EmailMessage:
    """The confirmation email: plain text with the one link to click."""
    message = _message(pub, to=to, subject=f"Please confirm your subscription to {list_name}")
    greeting = f"Hello {name}," if name else "Hello,"
    message.set_content(
        f"{greeting}\n\nPlease confirm that you want to receive {list_name} from {pub.organization}:\n\n"
        f"{url}\n\nIf you did not ask for this, ignore this email: nothing will be sent to you.\n\n"
        f"{pub.organization}, {pub.postal_address}\n"
    )
    return message


def subscribed_message(
    pub: Publication, *, to: str, name: str | None, list_name: str, url: str, already: bool
) -> EmailMessage:
    """The notice to someone subscribed at once, or already: plain text with their preferences link."""
    message = _message(pub, to=to, subject=f"You are subscribed to {list_name}")
    greeting = f"Hello {name}," if name else "Hello,"
    state = "were already subscribed" if already else "are now subscribed"
    message.set_content(
        f"{greeting}\n\nSomeone (we hope you) asked to subscribe this address to {list_name} from "
        f"{pub.organization}. You {state}: there is nothing to do.\n\nChoose what you receive, or leave, "
        f"here:\n\n{url}\n\n{pub.organization}, {pub.postal_address}\n"
    )
    return message


def _message(pub: Publication, *, to: str, subject: str) -> EmailMessage:
    """A message from the publication's sender to `to`, with its headers and no body yet."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((pub.sender.name, pub.sender.email))
    message["To"] = to
    if pub.reply_to:
        message["Reply-To"] = pub.reply_to
    message["Message-ID"] = make_msgid(domain=pub.sender.email.rpartition("@")[2])
    return message


class TransportConfirmationSender:
    """Sends the emails a subscription needs through the configured transport (outbox, SMTP or SendGrid)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def send_confirmation(self, *, to: str, name: str | None, list_name: str, confirm_url: str) -> None:
        """Send one confirmation email containing `confirm_url`; DeliveryError when it was not accepted."""
        pub = publication(self.services.settings.publications_dir)
        self._deliver(confirmation_message(pub, to=to, name=name, list_name=list_name, url=confirm_url))

    def send_subscribed_notice(
        self, *, to: str, name: str | None, list_name: str, manage_url: str, already: bool
    ) -> None:
        """Send the notice that someone is subscribed (now or already), with their preferences link."""
        pub = publication(self.services.settings.publications_dir)
        message = subscribed_message(
            pub, to=to, name=name, list_name=list_name, url=manage_url, already=already
        )
        self._deliver(message)

    def _deliver(self, message: EmailMessage) -> None:
        with closing(self.services.transport()) as transport:
            transport.send_message(message)
