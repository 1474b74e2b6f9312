"""A recording SendGrid stand-in: a threaded HTTP server on 127.0.0.1 with scriptable mail/send answers.

    with SendGridRecorder() as sg:               # or the `sendgrid_recorder` fixture
        sg.script(rate_limited(reset_in=2), accept())
        transport = SendGridTransport("SG.test", host=sg.url)
        ...
        sg.accepted                              # JSON bodies of accepted mail/send requests, in order

Each POST /v3/mail/send takes the next scripted reply (then `accept()` once the script is used up).
Any other request is answered 404. The server runs in
the test process, so a worker in another process can reach it by `url` while the record stays here.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import orjson

Kind = Literal["accept", "rate_limit", "error", "stall", "drop"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer to a mail/send request."""

    kind: Kind
    status: int = 202
    message: str = ""
    field: str | None = None
    seconds: float = 0.0
    message_id: str | None = None


def accept(message_id: str | None = None) -> Reply:
    """202 Accepted with an X-Message-Id header."""
    return Reply("accept", 202, message_id=message_id)


def rate_limited(reset_in: float = 2.0) -> Reply:
    """429 with X-RateLimit-Reset `reset_in` seconds from now (epoch seconds, rounded up)."""
    return Reply("rate_limit", 429, "too many requests", seconds=reset_in)


def server_error(status: int = 500, message: str = "internal server error") -> Reply:
    """A 5xx with a SendGrid-style JSON error body."""
    return Reply("error", status, message)


def bad_request(message: str, field: str | None = None, status: int = 400) -> Reply:
    """A 4xx with `{"errors": [{"message", "field", "help"}]}` as SendGrid sends."""
    return Reply("error", status, message, field)


def stall(seconds: float) -> Reply:
    """Wait `seconds` (longer than the client's timeout) and then accept: the client cannot know."""
    return Reply("stall", 202, seconds=seconds)


def drop() -> Reply:
    """Read the request, then close the connection without answering."""
    return Reply("drop", 0)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received and what it answered (status 0: connection dropped)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int

    @property
    def accepted(self) -> bool:
        """True for a mail/send request answered with 2xx."""
        return self.path == "/v3/mail/send" and 200 <= self.status < 300


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    script: list[Reply] = field(default_factory=list)
    otherwise: Reply | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class SendGridRecorder:
    """The stand-in server; start with `with` (or `start()`/`close()`); thread-safe."""

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self._state = _State()
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> SendGridRecorder:
        """Listen on 127.0.0.1 at a free port."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.recorder = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sendgrid-recorder"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and wait for every handler thread."""
        if self._server is None:
            return
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None

    def __enter__(self) -> SendGridRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The base URL to pass as the sendgrid library's `host=`."""
        assert self._server is not None, "the recorder is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ---------------------------------------------------------------- script and record

    def script(self, *replies: Reply) -> None:
        """Queue answers for the next mail/send requests, in order."""
        with self._state.lock:
            self._state.script.extend(replies)

    def answer_every_request(self, reply: Reply | None) -> None:
        """Answer every mail/send request not scripted with `reply` (None: accept again)."""
        with self._state.lock:
            self._state.otherwise = reply

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every mail/send request received, in order, whatever was answered."""
        with self._state.lock:
            return [r for r in self._state.requests if r.path == "/v3/mail/send"]

    @property
    def all_requests(self) -> list[RecordedRequest]:
        """Every request received, on any path."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def accepted(self) -> list[Any]:
        """Parsed JSON bodies of the accepted mail/send requests, in order."""
        return [r.body for r in self.requests if r.accepted]

    @property
    def accepted_recipients(self) -> list[str]:
        """Every `to` address of every accepted request, in order."""
        return [to["email"] for body in self.accepted for p in body["personalizations"] for to in p["to"]]

    def _next_reply(self) -> Reply:
        with self._state.lock:
            if self._state.script:
                return self._state.script.pop(0)
            return self._state.otherwise or accept()

    def _record(self, request: RecordedRequest) -> None:
        with self._state.lock:
            self._state.requests.append(request)

    def _next_id(self) -> int:
        with self._state.lock:
            return next(self._state.ids)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True
    recorder: SendGridRecorder


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ---------------------------------------------------------------- routing

    def _dispatch(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = orjson.loads(raw) if raw else None
        headers = dict(self.headers.items())
        recorder = self.server.recorder
        key = recorder.api_key
        if key is not None and self.headers.get("Authorization") != f"Bearer {key}":
            status = self._json(401, _errors("The provided authorization grant is invalid."))
        elif method == "POST" and self.path == "/v3/mail/send":
            reply = recorder._next_reply()  # recorded before answering: a stalled request shows at once
            recorder._record(RecordedRequest(method, self.path, headers, body, reply.status))
            self._mail_send(reply)
            return
        else:
            status = self._json(404, _errors("not found"))
        recorder._record(RecordedRequest(method, self.path, headers, body, status))

    def _mail_send(self, reply: Reply) -> int:
        if reply.kind == "drop":
            self.close_connection = True
            return 0
        if reply.kind == "stall":
            self.server.recorder._closing.wait(reply.seconds)
        if reply.kind in ("accept", "stall"):
            message_id = reply.message_id or f"msg-{self.server.recorder._next_id()}"
            return self._json(202, None, {"X-Message-Id": message_id})
        if reply.kind == "rate_limit":
            reset = math.ceil(time.time() + reply.seconds)
            limits = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
            return self._json(429, _errors(reply.message), {**limits, "X-RateLimit-Reset": str(reset)})
        return self._json(reply.status, _errors(reply.message, reply.field))

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> int:
        payload = b"" if data is None else orjson.dumps(data)
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True
        return status


def _errors(message: str, field: str | None = None) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field, "help": None}]}
