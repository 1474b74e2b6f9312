"""Log lines of the long-running shells (worker, web app): JSON lines when NEWSLETTER_LOG_FORMAT=json,
plain text otherwise. Pass ids as `extra={"send_id": ..., "delivery_id": ...}`: JSON lines carry them as
fields."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


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
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields=RENAMED))
    else:
        handler.setFormatter(logging.Formatter(PLAIN))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
