"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps messages; TLS and AUTH optional.

with SmtpServer() as smtp:                   # or the `smtp_server` fixture
    smtp.reject("nobody@example.org", "550 5.1.1 No such user")
    transport = SmtpTransport.from_url(smtp.url())
    ...
    smtp.messages_to("reader@example.org")   # parsed EmailMessage objects
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class TlsFiles:
    """A self-signed certificate for 127.0.0.1 and localhost, and contexts that use it."""

    cert: Path
    key: Path

    @classmethod
    def create(cls, folder: Path) -> TlsFiles:
        """Make a fresh P-256 key and a one-day certificate in `folder`."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = dt.datetime.now(dt.UTC)
        alt = x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(alt, critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        paths = cls(folder / "cert.pem", folder / "key.pem")
        paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return paths

    def server_context(self) -> ssl.SSLContext:
        """What the server presents."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this certificate."""
        return ssl.create_default_context(cafile=str(self.cert))


@dataclass(frozen=True)
class Received:
    """One message as the server got it: envelope sender, recipients, raw bytes, client address."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    peer: tuple[str, int]

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the modern email policy."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    """aiosmtpd hooks: refuse scripted recipients, keep every message, drop connections on request."""

    received: list[Received] = field(default_factory=list)
    rejections: dict[str, str] = field(default_factory=dict)
    drop_in_data: set[str] = field(default_factory=set)
    hang_up_after: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self.lock:
            refusal = self.rejections.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpts = tuple(envelope.rcpt_tos)
        with self.lock:
            content = bytes(envelope.content)
            self.received.append(Received(envelope.mail_from, rcpts, content, tuple(session.peer)))
            drop = any(r.lower() in self.drop_in_data for r in rcpts)
            hang_up = any(r.lower() in self.hang_up_after for r in rcpts)
        if drop:  # the message arrived, but the client never hears so
            server.transport.abort()
        elif hang_up:  # answer, then close: the next message finds the connection gone
            server.loop.call_soon(server.transport.close)
        return "250 2.0.0 Ok: queued"


class _ImplicitTlsAwareSMTP(SMTP):
    """aiosmtpd counts only STARTTLS as TLS for AUTH; a connection that is TLS from the start is too."""

    def connection_made(self, transport: Any) -> None:
        if transport.get_extra_info("sslcontext") is not None:
            self._auth_require_tls = False
        super().connection_made(transport)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _ImplicitTlsAwareSMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<free port>; `tls="starttls"|"implicit"` needs `tls_files`; AUTH if `login`;
    `smtputf8`: the server offers SMTPUTF8 (non-ASCII local parts), as aiosmtpd does not by default."""

    def __init__(
        self,
        *,
        tls: str | None = None,
        tls_files: TlsFiles | None = None,
        login: tuple[str, str] | None = None,
        smtputf8: bool = False,
    ) -> None:
        if tls and tls_files is None:
            raise ValueError("TLS needs tls_files")
        self.port = free_port()
        self.tls = tls
        self.login = login
        self._handler = _Handler()
        kwargs: dict[str, Any] = {"server_hostname": "localhost", "enable_SMTPUTF8": smtputf8}
        if tls == "starttls" and tls_files:
            kwargs.update(tls_context=tls_files.server_context(), require_starttls=True)
        elif tls == "implicit" and tls_files:
            kwargs.update(ssl_context=tls_files.server_context())
        if login:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self._controller = _Controller(self._handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def url(self, *, user: str | None = None, password: str | None = None) -> str:
        """An `smtp[s]://` URL for this server (credentials default to the server's login)."""
        user, password = (user, password) if user else (self.login or (None, None))
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        query = "?starttls=1" if self.tls == "starttls" else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}{query}"

    def reject(self, address: str, reply: str) -> None:
        """Answer RCPT TO for `address` with `reply`, e.g. "550 5.1.1 No such user"."""
        with self._handler.lock:
            self._handler.rejections[address.lower()] = reply

    def drop_during_data(self, address: str) -> None:
        """Take the message for `address`, then cut the connection before answering DATA."""
        with self._handler.lock:
            self._handler.drop_in_data.add(address.lower())

    def hang_up_after(self, address: str) -> None:
        """Accept the message for `address`, then close the connection."""
        with self._handler.lock:
            self._handler.hang_up_after.add(address.lower())

    @property
    def received(self) -> list[Received]:
        """Every message received, in order."""
        with self._handler.lock:
            return list(self._handler.received)

    def messages_to(self, address: str) -> list[EmailMessage]:
        """Parsed messages whose envelope recipients include `address`."""
        return [r.message for r in self.received if address.lower() in map(str.lower, r.rcpt_tos)]
