"""The send state machine: the one function that moves a send from one state to another."""

from __future__ import annotations

from newsletter import clock
from newsletter.db.tables import Send, SendStatus
from newsletter.errors import ScheduleError

S = SendStatus

ALLOWED: dict[SendStatus, frozenset[SendStatus]] = {
    S.DRAFT: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.SENDING, S.PAUSED, S.CANCELLED}),
    S.SENDING: frozenset({S.PAUSED, S.SENT, S.CANCELLED, S.FAILED}),
    S.PAUSED: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SENT: frozenset({S.SENDING}),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset({S.SCHEDULED, S.SENDING}),
}
"""From each state, the states a send may move to. Resuming a paused send schedules it again; a sent or
failed send goes back to sending only when some of its rows are requeued (reconciliation)."""

VERBS: dict[SendStatus, str] = {
    S.PAUSED: "pause",
    S.SCHEDULED: "schedule",
    S.CANCELLED: "cancel",
    S.SENDING: "start",
    S.SENT: "finish",
}

FINISHED = frozenset({S.SENT, S.CANCELLED, S.FAILED})
"""States that stamp `finished_at`; leaving one clears it."""


def transition(send: Send, to: SendStatus, *, error: str | None = None, verb: str | None = None) -> None:
    """Move `send` to state `to`, stamping times; ScheduleError (in the words of `verb`) if not allowed.

    `error` is kept on the send when it fails or pauses with a reason; finishing (`sent`) clears it.
    """
    target = SendStatus(to)
    current = SendStatus(send.status) if send.status else S.DRAFT
    if target not in ALLOWED[current]:
        verb = verb or VERBS.get(target, f"move to {target}")
        raise ScheduleError(f"send {send.id} is {current}; cannot {verb} it")
    now = clock.now()
    if target == S.SENDING and send.started_at is None:
        send.started_at = now
    if target in FINISHED:
        send.finished_at = now
    elif current in FINISHED:
        send.finished_at = None
    if target == S.FAILED or (target == S.PAUSED and error is not None):
        send.error = error
    elif target == S.SENT:
        send.error = None  # an earlier refusal or failure is over
    send.status = target.value
    send.updated_at = now
