"""The claim interface the send loop runs over (one round per batch), implemented by `pipeline.py`
(PostgreSQL) and `leased.py` (SQLite).

Per round the loop `submit`s the previous batch's marks and skips, the hand-over of the batch claimed
ahead (`claimed → sending`, only if still held and the send still sending) and the next claim; builds
the upcoming request while that runs; then `collect`s the committed answer. Only a batch whose hand-over
committed is sent (docs/architecture.md, "Invariants").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from newsletter.deliver.engine.claims import ClaimedBatch
from newsletter.deliver.engine.marks import BatchMarks, Write

HANDED_OVER_FROM = ("claimed", "sending")
"""A hand-over moves the batch this worker holds from `claimed` to `sending`; finding it `sending` already
(a round that committed but whose answer was lost with the connection, then submitted again) counts as
handed over too: it is this worker's, and nothing of it was sent, since a batch is sent only after the
round that handed it over was collected."""


class Collected(NamedTuple):
    """What a round committed: whether the upcoming batch may be sent, the next claim, the send's status,
    and whether this worker may still work on the send (SQLite: it still holds the send's lease)."""

    handed_over: bool
    claimed: ClaimedBatch | None
    status: str
    held: bool = True


class ClaimLine(Protocol):
    """One worker's line of claims on one send; a context manager whose exit gives back what it holds
    claimed ahead (never what it sent)."""

    def __enter__(self) -> ClaimLine: ...

    def __exit__(self, *exc: object) -> None: ...

    def submit(
        self,
        marks: BatchMarks | None,
        writes: Sequence[Write],
        *,
        hand_over: int | None,
        claim: bool,
        now: datetime,
    ) -> None:
        """Start the round: `marks`, then `writes`, the hand-over of batch `hand_over`, the next claim."""
        ...

    def collect(self) -> Collected:
        """Finish the round (committed) and read its answers."""
        ...

    def release(self) -> None:
        """Put this worker's batches claimed ahead back to pending (committed)."""
        ...
