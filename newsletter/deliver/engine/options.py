"""How a worker runs sends (`RunOptions`: batch size, leases, staleness, retries, brakes) and what one run
did (`RunReport`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RunOptions:
    """How a worker runs sends; tests shorten the times."""

    batch_size: int = 1000
    lease_seconds: float = 60.0
    stale_after_seconds: float = 600.0
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    max_idle_wait_seconds: float = 60.0
    refused_batches_before_pause: int = 3
    heartbeat_seconds: float = 10.0
    """A worker beats this often; its claims are recovered once it missed two beats."""


@dataclass
class RunReport:
    """What one run of a send did, by outcome."""

    send_id: int
    status: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def add(self, outcome: str, n: int = 1) -> None:
        """Count `n` rows with `outcome`."""
        if n:
            self.counts[outcome] = self.counts.get(outcome, 0) + n

    def add_all(self, outcomes: Counter[str]) -> None:
        """Count rows by outcome."""
        for outcome, n in outcomes.items():
            self.add(outcome, n)
