"""SMTP transport: one message per recipient over one reused connection; each reply mapped to an outcome."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from newsletter.deliver.transports.addresses import wire_address
from newsletter.deliver.transports.base import (
    DeliveryResult,
    Envelope,
    Outcome,
    OutgoingBatch,
    Request,
    missing_values,
    recipient_message,
    required_values,
    send_later,
)
from newsletter.errors import ConfigError, DeliveryError, RenderError

_TRUE = {"1", "true", "yes", "on"}
_NO_UTF8 = "the SMTP server does not offer SMTPUTF8, which it needs"


class _Dropped(Exception):
    """The connection broke before DATA: the message was certainly not accepted."""


@dataclass(frozen=True)
class SmtpOptions:
    """Where and how to connect: host, port, credentials, TLS mode, socket timeout."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> SmtpOptions:
        """Parse `smtp[s]://user:pass@host:port?starttls=1&timeout=10`."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ConfigError("NEWSLETTER_SMTP_URL must look like smtp://user:pass@host:port")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        try:
            timeout = float(query.get("timeout", timeout))
            port = parts.port or (465 if implicit else 25)
        except ValueError as exc:
            raise ConfigError(f"NEWSLETTER_SMTP_URL: {exc}") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=not implicit and query.get("starttls", "").lower() in _TRUE,
            implicit_tls=implicit,
            timeout=timeout,
        )

    def connect(self, context: ssl.SSLContext | None = None) -> smtplib.SMTP:
        """An open, greeted connection: implicit TLS or STARTTLS as set, logged in when credentials are."""
        context = context or ssl.create_default_context()
        conn: smtplib.SMTP
        if self.implicit_tls:
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=context)
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password or "")
        except BaseException:
            conn.close()
            raise
        return conn


class SmtpTransport:
    """Sends each recipient their own message; 5xx is failed, 4xx retry, a break during DATA unknown."""

    name = "smtp"
    max_batch_size = 100
    idempotent = False

    def __init__(
        self,
        options: SmtpOptions,
        *,
        ssl_context: ssl.SSLContext | None = None,
        message_id_domain: str | None = None,
    ) -> None:
        self.options = options
        self._ssl = ssl_context
        self._domain = message_id_domain
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpTransport:
        """A transport for `smtp[s]://user:pass@host:port?starttls=1` (the NEWSLETTER_SMTP_URL)."""
        return cls(SmtpOptions.from_url(url, timeout=timeout), ssl_context=ssl_context)

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        """Send one message per envelope over one connection; results in envelope order."""
        required = required_values(batch.rendered)
        results: list[DeliveryResult] = []
        unreachable: str | None = None
        try:
            for envelope in batch.envelopes:
                problem = missing_values(required, envelope)
                if problem:
                    results.append(DeliveryResult(envelope.delivery_id, "failed", detail=problem))
                    continue
                if unreachable:
                    results.append(DeliveryResult(envelope.delivery_id, "retry", None, unreachable, True))
                    continue
                result, unreachable = self._deliver(batch, envelope)
                results.append(result)
        finally:
            self.close()
        return results

    def _deliver(self, batch: OutgoingBatch, envelope: Envelope) -> tuple[DeliveryResult, str | None]:
        """Send one message, reconnecting once if the connection broke before DATA.

        The second item names why the server is unreachable, so the rest of the batch is not tried.
        The address is checked against what the server offers before anything is sent: a non-ASCII
        local part needs SMTPUTF8 (else the recipient fails with the reason); the domain goes as IDNA.
        """
        sender = batch.publication.sender.email
        reconnected = False
        ready: tuple[Envelope, EmailMessage, bool] | None = None
        while True:
            try:
                conn = self._connection()
            except (OSError, smtplib.SMTPException) as exc:
                detail = f"cannot reach SMTP server {self._where()}: {_text(exc)}"
                return DeliveryResult(envelope.delivery_id, "retry", None, detail, True), detail
            if ready is None:
                wire = wire_address(
                    envelope.email, utf8_local_parts=conn.has_extn("smtputf8"), why_not=_NO_UTF8
                )
                if wire.refusal:
                    return DeliveryResult(envelope.delivery_id, "failed", detail=wire.refusal), None
                on_wire = envelope._replace(email=wire.address)
                try:
                    ready = (on_wire, self.message(batch, on_wire), wire.utf8)
                except RenderError as exc:
                    return DeliveryResult(envelope.delivery_id, "failed", detail=str(exc)), None
            try:
                result = _transact(conn, sender, *ready)
            except _Dropped as exc:
                self.close()
                if not reconnected:
                    reconnected = True
                    continue
                detail = f"connection lost before DATA, twice: {exc}"
                return DeliveryResult(envelope.delivery_id, "retry", detail=detail), None
            if conn.sock is None:  # closed after a break during DATA: open a new one next time
                self._conn = None
            return result, None

    def send_message(self, message: EmailMessage) -> None:
        """Send one finished message over a connection of its own; DeliveryError unless it was accepted."""
        try:
            with self._open() as conn:
                conn.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"the email could not be sent through {self._where()}: {_text(exc)}",
                retryable=not _permanent(exc),
            ) from None

    def message(self, batch: OutgoingBatch, envelope: Envelope) -> EmailMessage:
        """The complete message for one recipient, with unsubscribe and tracking headers."""
        return recipient_message(batch, envelope, self._domain)

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> smtplib.SMTP:
        return self.options.connect(self._ssl)

    def _where(self) -> str:
        return f"{self.options.host}:{self.options.port}"

    def prepare_batch(self, batch: OutgoingBatch) -> Request:
        """Nothing to prepare: the request does all the work."""
        return send_later(self, batch)

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            conn.close()


def _transact(
    conn: smtplib.SMTP, sender: str, envelope: Envelope, message: EmailMessage, utf8: bool
) -> DeliveryResult:
    """MAIL, RCPT, DATA for one recipient (SMTPUTF8 when `utf8`); raises _Dropped if the connection
    broke before DATA."""
    data = message.as_bytes(policy=email_policy.SMTPUTF8 if utf8 else message.policy.clone(linesep="\r\n"))
    message_id = message.get("Message-ID")
    try:
        mail = conn.mail(sender, ["SMTPUTF8"] if utf8 else ())
        for code, reply in (mail, conn.rcpt(envelope.email)):
            if code not in (250, 251):
                _reset(conn)
                return _refused(envelope, code, reply)
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        raise _Dropped(_text(exc)) from exc
    try:
        code, reply = conn.data(data)
    except smtplib.SMTPDataError as exc:  # DATA itself refused: the body was never sent
        _reset(conn)
        return _refused(envelope, exc.smtp_code, exc.smtp_error)
    except (OSError, smtplib.SMTPException) as exc:
        conn.close()
        detail = f"outcome unknown: connection lost during DATA: {_text(exc)}"
        return DeliveryResult(envelope.delivery_id, "unknown", message_id, detail)
    if code != 250:
        _reset(conn)
        return _refused(envelope, code, reply)
    return DeliveryResult(envelope.delivery_id, "accepted", message_id, _reply(code, reply))


def _refused(envelope: Envelope, code: int, reply: bytes | str) -> DeliveryResult:
    outcome: Outcome = "failed" if 500 <= code < 600 else "retry"
    return DeliveryResult(envelope.delivery_id, outcome, detail=_reply(code, reply))


def _reset(conn: smtplib.SMTP) -> None:
    try:
        conn.rset()
    except (OSError, smtplib.SMTPException):
        conn.close()


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {text}".strip()


def _permanent(exc: BaseException) -> bool:
    """Whether the server refused for good (5xx), so trying the same message again cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
