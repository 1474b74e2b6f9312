"""Log lines of the long-running shells (worker, web app): JSON lines when NEWSLETTER_LOG_FORMAT=json,
plain text otherwise, one line per record (an exception as its type and message, never a traceback).
Pass ids as `extra={"send_id": ..., "delivery_id": ...}`: JSON lines carry them as fields."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


def one_line(error: BaseException) -> str:
    """An exception as `Type: first line of its message`."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


class _OneLine(logging.Formatter):
    """Plain text, one line per record: an exception's type and message instead of its traceback."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging.Formatter's name)
        return f"({one_line(ei[1])})" if ei and ei[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n(", " (")


class _OneLineJson(JsonFormatter):
    """JSON lines whose exception is its type and message (`error`), not a traceback."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging.Formatter's name)
        return one_line(ei[1]) if ei and ei[1] is not None else ""


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is logged (tests swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The stream is always the current standard error."""


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send log records at `level` and above to standard error as JSON lines or plain text (once)."""
    handler = _StderrHandler()
    if log_format == "json":
        handler.setFormatter(_OneLineJson(JSON_FIELDS, rename_fields=RENAMED))
    else:
        handler.setFormatter(_OneLine(PLAIN))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
