"""The domain exception tree; shells (CLI, web, worker) turn these into messages.

* NewsletterError
  - ConfigError          a setting is missing or wrong (names the setting)
  - ContentError         an issue or publication file is invalid (one or more ContentProblem)
    - SegmentError       a segment expression does not parse or check (`segment:1:14: unknown attribute`)
  - RenderError          a valid issue could not be turned into an email
  - AudienceError        subscribers, lists, imports
    - NotFound           a list, subscriber or send that does not exist
    - InvalidToken       a tampered, foreign or expired signed token
    - Suppressed         the address is suppressed and may not be mailed or re-added silently
    - ImportFileError    a CSV file that cannot be imported at all (bad header, encoding)
  - ScheduleError        a send cannot move to the requested state
  - DeliveryError        a transport failed; `retryable` says whether trying again may help
    - ProviderRefused    the provider refused the whole account (bad API key): the send fails once
  - WebhookError         an event webhook request was refused (status says why)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class NewsletterError(Exception):
    """Base of every error the product raises on purpose."""


class ConfigError(NewsletterError):
    """A setting is missing or has a wrong value."""


@dataclass(frozen=True, order=True)
class ContentProblem:
    """One finding in a content file, located at file:line:col and a field path.

    `check` names the check that found it (empty for YAML and schema errors; lint and Markdown
    findings always name theirs, e.g. "links", "claims"); `severity` is "error" or "warning".
    """

    path: str
    line: int
    col: int
    field: str
    message: str
    check: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ContentError(NewsletterError):
    """A content file is invalid; carries every problem found, not only the first."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, path: Path | str, message: str, line: int = 1, col: int = 1) -> ContentError:
        """An error with one problem, for whole-file failures (unreadable, not YAML)."""
        return cls([ContentProblem(str(path), line, col, "", message)])


class SegmentError(ContentError):
    """A segment expression that does not parse or type-check; each problem is located in its text.

    A problem's path names the expression (`segment`, or a saved segment's name), so it reads
    `segment:1:14: unknown attribute 'rol'`.
    """


class RenderError(NewsletterError):
    """A valid issue could not be turned into an email."""


class AudienceError(NewsletterError):
    """A subscriber, list or import operation failed."""


class NotFound(AudienceError):
    """A list, subscriber or send that does not exist."""


class InvalidToken(AudienceError):
    """A signed token that was tampered with, made for another purpose, or expired."""


class Suppressed(AudienceError):
    """The address is suppressed and may not be mailed or re-added silently."""


class ImportFileError(AudienceError):
    """A CSV file that cannot be imported at all."""


class ScheduleError(NewsletterError):
    """A send cannot move to the requested state."""


class DeliveryError(NewsletterError):
    """A transport failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ProviderRefused(DeliveryError):
    """The provider refused our credentials; `results` are the envelopes settled before it did."""

    def __init__(self, message: str, results: Sequence[Any] = ()) -> None:
        super().__init__(message, retryable=False)
        self.results = list(results)


class WebhookError(NewsletterError):
    """An event webhook request was refused; `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
