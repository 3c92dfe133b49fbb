"""Session statuses and what each control action does to them (a transition table).

Like h11's state machine, transitions are data: ``TRANSITIONS[status][action]``
gives the next status.  A repeated action is a no-op (same status back); an
action missing from the table raises :class:`~livesim.errors.Conflict` and
changes nothing.
"""

from __future__ import annotations

import enum

from livesim.errors import Conflict


class SessionStatus(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"


class Action(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    SPEED = "speed"


S, A = SessionStatus, Action
TRANSITIONS: dict[SessionStatus, dict[Action, SessionStatus]] = {
    S.CREATED: {A.PAUSE: S.PAUSED, A.RESUME: S.CREATED, A.STOP: S.STOPPED, A.SPEED: S.CREATED},
    S.RUNNING: {A.PAUSE: S.PAUSED, A.RESUME: S.RUNNING, A.STOP: S.STOPPED, A.SPEED: S.RUNNING},
    S.PAUSED: {A.PAUSE: S.PAUSED, A.RESUME: S.RUNNING, A.STOP: S.STOPPED, A.SPEED: S.PAUSED},
    S.STOPPED: {A.STOP: S.STOPPED},
    S.FINISHED: {},
    S.FAILED: {},
}
TERMINAL = frozenset({S.STOPPED, S.FINISHED, S.FAILED})

_WHY = {
    S.STOPPED: "it was stopped",
    S.FINISHED: "it has finished",
    S.FAILED: "it failed",
}


def next_status(status: SessionStatus, action: Action) -> SessionStatus:
    """The status after ``action``; raises ``Conflict`` when it makes no sense now."""
    try:
        return TRANSITIONS[status][action]
    except KeyError:
        raise Conflict(
            f"cannot {action.value} this session: {_WHY.get(status, f'it is {status.value}')}",
            code="invalid_transition",
            details={"status": status.value, "action": action.value}) from None


def from_statuses(target: SessionStatus, action: Action) -> list[str]:
    """Every status from which ``action`` leads to ``target`` (for a guarded UPDATE)."""
    return [s.value for s, moves in TRANSITIONS.items() if moves.get(action) == target]
