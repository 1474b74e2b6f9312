"""The send state machine: the one function that moves a send from one state to another."""

from __future__ import annotations

from newsletter import clock
from newsletter.db.tables import Send
from newsletter.errors import ScheduleError

ALLOWED: dict[str, frozenset[str]] = {
    "draft": frozenset({"scheduled", "cancelled"}),
    "scheduled": frozenset({"sending", "paused", "cancelled"}),
    "sending": frozenset({"paused", "sent", "cancelled", "failed"}),
    "paused": frozenset({"scheduled", "cancelled"}),
    "sent": frozenset(),
    "cancelled": frozenset(),
    "failed": frozenset({"scheduled"}),
}
"""From each state, the states a send may move to. Resuming a paused send schedules it again."""

VERBS = {
    "paused": "pause",
    "scheduled": "schedule",
    "cancelled": "cancel",
    "sending": "start",
    "sent": "finish",
}


def transition(send: Send, to: str, *, error: str | None = None, verb: str | None = None) -> None:
    """Move `send` to state `to`, stamping times; ScheduleError (in the words of `verb`) if not allowed."""
    if to not in ALLOWED.get(send.status, frozenset()):
        verb = verb or VERBS.get(to, f"move to {to}")
        raise ScheduleError(f"send {send.id} is {send.status}; cannot {verb} it")
    now = clock.now()
    if to == "sending" and send.started_at is None:
        send.started_at = now
    if to in {"sent", "cancelled", "failed"}:
        send.finished_at = now
    if to == "failed":
        send.error = error
    send.status = to
    send.updated_at = now
