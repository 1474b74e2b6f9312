"""Policies the send loop consults after each batch it sent: go on, or pause the send and say why.

The loop knows nothing of what a policy looks at: it gives each batch's results to every brake and
pauses the send with the first reason one returns. `RefusalBrake` is the first: batches the provider
refused whole (HTTP 4xx other than 429, connection refused, unknown host) several times in a row mean
something is wrong with our side (a bad request, a wrong host), not with the recipients, so going on
would only fail everyone. Later ones (an expiry, bounce or complaint rates) fit the same seam; a shared
rate limiter would be the same kind of object asked before each request how long to wait, and a wave
planner would set when batches are due (their `not_before`), which the claim already honours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from newsletter.deliver.transports.base import DeliveryResult


class Brake(Protocol):
    """Asked after every batch a run sent; one instance per run of a send."""

    def after_batch(self, results: Sequence[DeliveryResult]) -> str | None:
        """Why the send must pause now, or None to go on."""
        ...


@dataclass
class RefusalBrake:
    """Pauses after `limit` batches in a row whose every request the provider refused, in its words."""

    limit: int
    in_a_row: int = 0

    def after_batch(self, results: Sequence[DeliveryResult]) -> str | None:
        """The pause reason once `limit` batches in a row were refused whole."""
        if not results or not all(result.refused for result in results):
            self.in_a_row = 0
            return None
        self.in_a_row += 1
        if self.in_a_row < self.limit:
            return None
        return (
            f"paused after {self.in_a_row} batches in a row refused by the provider "
            f"(fix the cause, then `newsletter retry-failed` and `newsletter resume`): {results[-1].detail}"
        )
