"""SendGrid v3 transport: one mail/send request per 1000 recipients, bounded retries; single messages."""

from __future__ import annotations

import http.client
import random
import socket
import time
import urllib.error
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal
from urllib.parse import quote

import orjson
from python_http_client.exceptions import HTTPError as ApiHTTPError
from sendgrid import SendGridAPIClient

from newsletter import clock
from newsletter.deliver.transports.addresses import wire_address
from newsletter.deliver.transports.base import (
    DeliveryResult,
    Envelope,
    Outcome,
    OutgoingBatch,
    Request,
    chunked,
    missing_values,
    required_values,
    same_outcome,
)
from newsletter.deliver.transports.sendgrid_payload import (
    MarkedIssue,
    build_payload,
    mark_issue,
    message_payload,
)
from newsletter.errors import ConfigError, DeliveryError, ProviderRefused

# The library json.dumps() a body when Content-Type is exactly "application/json"; with any other
# value it sends our (orjson) text as it is. Headers given to one call stick to the client, so every
# call starts from reset_request_headers().
_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class RequestBody:
    """A JSON request body as the library takes it, whose bytes print as their size, not their contents.

    The library (python_http_client) formats every request's body into a debug log line whether
    logging is on or not: for a full mail/send that is a repr of the whole body, most of the HTTP
    stage's time. With our Content-Type (not exactly "application/json") it
    only calls `encode("utf-8")` on the body it is given: that hands over the bytes orjson made, as
    `QuietBytes`, with no decoding to text and back.
    """

    __slots__ = ("_utf8",)

    def __init__(self, utf8: bytes) -> None:
        self._utf8 = QuietBytes(utf8)

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The UTF-8 bytes (another encoding: the text encoded afresh)."""
        if encoding.replace("-", "").lower() == "utf8":
            return self._utf8
        return str(self).encode(encoding, errors)

    def __str__(self) -> str:
        return self._utf8.decode("utf-8")


class QuietBytes(bytes):
    """Bytes that format as `<N bytes>` (for a log line), so formatting them costs nothing."""

    def __format__(self, spec: str) -> str:
        return f"<{len(self):,} bytes>"


_NO_UTF8 = "SendGrid accepts only ASCII local parts"

_NETWORK_ERRORS = (OSError, http.client.HTTPException)  # URLError, timeouts, resets are OSErrors
_CONFIG_STATUSES = {401, 403}  # bad key, no permission: the whole send fails once, rows stay pending


@dataclass(frozen=True)
class ApiReply:
    """A SendGrid answer: status, raw body and headers (names lower-cased)."""

    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError:
            return None

    def describe(self) -> str:
        """`HTTP 400: field: message; ...`, plus Prism's `sl-violations` header when present."""
        data = self.json()
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list):
            parts = [_error_text(e) for e in errors if isinstance(e, dict)]
            text = "; ".join(p for p in parts if p)
        else:
            text = self.body[:500].decode("utf-8", "replace").strip()
        out = f"HTTP {self.status}: {text}" if text else f"HTTP {self.status}"
        if violations := self.headers.get("sl-violations"):
            out += f" [sl-violations: {violations}]"
        return out


def _error_text(error: Mapping[str, Any]) -> str:
    message, field = str(error.get("message") or ""), error.get("field")
    return f"{field}: {message}" if field and field != "null" else message


@dataclass(frozen=True)
class _Verdict:
    """The meaning of one attempt; "again" means try once more after `wait` seconds (None: back off);
    "refused" means the account itself was refused (401/403): no request of this send can succeed."""

    outcome: Outcome | Literal["again", "refused"]
    detail: str = ""
    message_id: str | None = None
    wait: float | None = None
    request_refused: bool = False
    """The provider refused the request itself (4xx other than 429 and 401/403, nothing listening)."""


class SendGridTransport:
    """Sends batches through the official `sendgrid` library to `host` (a local stand-in in tests)."""

    name = "sendgrid"
    max_batch_size = 1000
    idempotent = False

    def __init__(
        self,
        api_key: str,
        *,
        host: str = "https://api.sendgrid.com",
        timeout: float = 30.0,
        max_attempts: int = 4,
        max_rate_limit_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        sandbox: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("SENDGRID_API_KEY is empty")
        self._client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self.host = host.rstrip("/")
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._max_wait = max_rate_limit_wait
        self._sleep = sleep
        self._sandbox = sandbox
        self._rng = rng or random.Random()

    # ------------------------------------------------------------------ mail/send

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        """Send in requests of up to 1000 recipients; one result per envelope, in order.

        ProviderRefused (carrying the results settled before it) when SendGrid refuses the API key.
        """
        return self.prepare_batch(batch)()

    def prepare_batch(self, batch: OutgoingBatch) -> Request:
        """Build the batch's request bodies now (no network); the returned call sends them."""
        required = required_values(batch.rendered)
        results: list[DeliveryResult | None] = [None] * len(batch.envelopes)
        sendable: list[tuple[int, Envelope]] = []
        for index, envelope in enumerate(batch.envelopes):
            wire = wire_address(envelope.email, utf8_local_parts=False, why_not=_NO_UTF8)
            problem = missing_values(required, envelope) or wire.refusal
            if problem:
                results[index] = DeliveryResult(envelope.delivery_id, "failed", detail=problem)
            else:
                on_wire = (
                    envelope if wire.address == envelope.email else envelope._replace(email=wire.address)
                )
                sendable.append((index, on_wire))
        marked = mark_issue(batch)
        requests = [
            (chunk, self._body(batch, marked, [envelope for _, envelope in chunk]))
            for chunk in chunked(sendable, self.max_batch_size)
        ]

        def send() -> list[DeliveryResult]:
            for chunk, body in requests:
                try:
                    answers = self._send_request(body, [envelope for _, envelope in chunk])
                except ProviderRefused as exc:
                    raise ProviderRefused(str(exc), [r for r in results if r is not None]) from None
                for (index, _), result in zip(chunk, answers, strict=True):
                    results[index] = result
            return [r for r in results if r is not None]

        return send

    def _body(self, batch: OutgoingBatch, marked: MarkedIssue, envelopes: Sequence[Envelope]) -> RequestBody:
        payload = build_payload(batch, envelopes, marked=marked, sandbox=self._sandbox)
        return RequestBody(orjson.dumps(payload))

    def _send_request(self, body: RequestBody, envelopes: Sequence[Envelope]) -> list[DeliveryResult]:
        verdict = self._post_with_retries(body)
        if verdict.outcome == "refused":
            raise ProviderRefused(f"SendGrid refused the API key or its permissions: {verdict.detail}")
        outcome: Outcome = "retry" if verdict.outcome == "again" else verdict.outcome
        return same_outcome(
            envelopes, outcome, verdict.detail, verdict.message_id, refused=verdict.request_refused
        )

    def _post_with_retries(self, body: RequestBody) -> _Verdict:
        verdict = _Verdict("again")
        for attempt in range(1, self._max_attempts + 1):
            verdict = self._attempt(body)
            if verdict.outcome != "again":
                return verdict
            if attempt < self._max_attempts:
                wait = verdict.wait if verdict.wait is not None else self._backoff(attempt)
                self._sleep(wait)
        detail = f"{verdict.detail} (gave up after {self._max_attempts} attempts)"
        return _Verdict("retry", detail, request_refused=verdict.request_refused)

    def _attempt(self, body: RequestBody) -> _Verdict:
        try:
            reply = self._call("post", "mail/send", body)
        except _NETWORK_ERRORS as exc:
            if _never_sent(exc):
                return _Verdict("again", f"not sent: {_exc_text(exc)}", request_refused=True)
            return _Verdict("unknown", f"outcome unknown: {_exc_text(exc)}")
        return self._judge(reply)

    def _judge(self, reply: ApiReply) -> _Verdict:
        if 200 <= reply.status < 300:
            return _Verdict("accepted", f"HTTP {reply.status}", reply.headers.get("x-message-id"))
        if reply.status == 429:
            return _Verdict("again", reply.describe(), wait=self._rate_limit_wait(reply))
        if reply.status >= 500:
            return _Verdict("again", reply.describe())
        if reply.status in _CONFIG_STATUSES:
            return _Verdict("refused", reply.describe())
        return _Verdict("failed", reply.describe(), request_refused=400 <= reply.status < 500)

    def _rate_limit_wait(self, reply: ApiReply) -> float | None:
        try:
            reset = float(reply.headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return None
        return min(max(reset - clock.now().timestamp(), 1.0), self._max_wait)

    def _backoff(self, attempt: int) -> float:
        delay = min(30.0, 2.0 ** (attempt - 1))
        return delay / 2 + self._rng.uniform(0, delay / 2)

    def send_message(self, message: EmailMessage) -> None:
        """One finished message in one request, tried once (someone is waiting for it); DeliveryError
        (retryable for 429, 5xx and network errors) unless SendGrid accepted it."""
        body = RequestBody(orjson.dumps(message_payload(message)))
        try:
            reply = self._call("post", "mail/send", body)
        except _NETWORK_ERRORS as exc:
            raise DeliveryError(
                f"SendGrid could not be reached at {self.host}: {_exc_text(exc)}", retryable=True
            ) from None
        if not 200 <= reply.status < 300:
            raise DeliveryError(
                f"SendGrid refused the email: {reply.describe()}",
                retryable=reply.status == 429 or reply.status >= 500,
            )

    # ------------------------------------------------------------------ the library

    def _call(self, method: str, path: str, body: RequestBody) -> ApiReply:
        """One API call through the library with our timeout; HTTP errors come back as replies."""
        self._client.reset_request_headers()
        endpoint = self._client.client
        for segment in path.split("/"):
            endpoint = endpoint._(quote(segment, safe=""))
        try:
            response = getattr(endpoint, method)(
                request_body=body, request_headers=_JSON_HEADERS, timeout=self._timeout
            )
        except ApiHTTPError as exc:
            return ApiReply(exc.status_code, exc.body or b"", _lower(exc.headers))
        return ApiReply(response.status_code, response.body or b"", _lower(response.headers))

    def close(self) -> None:
        """Nothing to release: the library opens one connection per request."""


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers.items() if headers else ())}


def _never_sent(exc: BaseException) -> bool:
    """True when the request provably never reached the server (refused, unknown host)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else None
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _exc_text(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
