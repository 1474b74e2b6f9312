"""The double opt-in email and the subscribed notice: a ConfirmationSender over the configured transport
(SMTP, SendGrid, outbox)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from newsletter.config import Settings
from newsletter.content.schema import Publication
from newsletter.deliver.transports.smtp import SmtpOptions
from newsletter.errors import ConfigError, DeliveryError
from newsletter.web.public import sendgrid_mail
from newsletter.web.site import publication


def confirmation_message(
    pub: Publication, *, to: str, name: str | None, list_name: str, url: str
) -> EmailMessage:
    """The confirmation email: plain text with the one link to click."""
    message = EmailMessage()
    message["Subject"] = f"Please confirm your subscription to {list_name}"
    message["From"] = formataddr((pub.sender.name, pub.sender.email))
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=pub.sender.email.rpartition("@")[2])
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
    message = EmailMessage()
    message["Subject"] = f"You are subscribed to {list_name}"
    message["From"] = formataddr((pub.sender.name, pub.sender.email))
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=pub.sender.email.rpartition("@")[2])
    greeting = f"Hello {name}," if name else "Hello,"
    state = "were already subscribed" if already else "are now subscribed"
    message.set_content(
        f"{greeting}\n\nSomeone (we hope you) asked to subscribe this address to {list_name} from "
        f"{pub.organization}. You {state}: there is nothing to do.\n\nChoose what you receive, or leave, "
        f"here:\n\n{url}\n\n{pub.organization}, {pub.postal_address}\n"
    )
    return message


class TransportConfirmationSender:
    """Sends confirmation emails with the configured transport: SMTP, SendGrid, or a file in the outbox."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send_confirmation(self, *, to: str, name: str | None, list_name: str, confirm_url: str) -> None:
        """Send one confirmation email containing `confirm_url`."""
        pub = publication(self.settings.publications_dir)
        message = confirmation_message(pub, to=to, name=name, list_name=list_name, url=confirm_url)
        self._deliver(pub, message)

    def send_subscribed_notice(
        self, *, to: str, name: str | None, list_name: str, manage_url: str, already: bool
    ) -> None:
        """Send the notice that someone is subscribed (now or already), with their preferences link."""
        pub = publication(self.settings.publications_dir)
        message = subscribed_message(
            pub, to=to, name=name, list_name=list_name, url=manage_url, already=already
        )
        self._deliver(pub, message)

    def _deliver(self, pub: Publication, message: EmailMessage) -> None:
        if self.settings.transport == "smtp":
            self._smtp(message)
        elif self.settings.transport == "sendgrid":
            self._sendgrid(pub, message)
        elif self.settings.transport == "outbox":
            folder = self.settings.outbox_dir / "confirmations"
            folder.mkdir(parents=True, exist_ok=True)
            name_part = str(message["Message-ID"]).strip("<>").replace("/", "_")
            (folder / f"{name_part}.eml").write_bytes(message.as_bytes())
        else:
            raise ConfigError("confirmation emails need NEWSLETTER_TRANSPORT=smtp, sendgrid or outbox")

    def _sendgrid(self, pub: Publication, message: EmailMessage) -> None:
        key = self.settings.sendgrid_api_key
        if key is None:
            raise ConfigError("SENDGRID_API_KEY is required when NEWSLETTER_TRANSPORT=sendgrid")
        body = sendgrid_mail.mail_send_body(
            sender=(pub.sender.name, pub.sender.email),
            to=str(message["To"]),
            subject=str(message["Subject"]),
            text=message.get_content(),
            reply_to=pub.reply_to,
        )
        sendgrid_mail.send_one(body, api_key=key.get_secret_value(), host=self.settings.sendgrid_host)

    def _smtp(self, message: EmailMessage) -> None:
        if not self.settings.smtp_url:
            raise ConfigError("NEWSLETTER_SMTP_URL is required when NEWSLETTER_TRANSPORT=smtp")
        options = SmtpOptions.from_url(self.settings.smtp_url, timeout=10.0)
        try:
            with options.connect() as conn:
                conn.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"the confirmation email could not be sent: {exc}", retryable=True) from None
